import { joinResumed, parseCallBody, type ExitLine, type ResumedLine, type SyscallLine, type UnfinishedLine } from './strace-line.js';
import { applySyscallEffects, type Cwd } from './syscall-effects.js';
import type { ExitStatus, LineCounts, SummaryBuilder, TraceRun } from './trace-summary.js';

/**
 * The processes of one strace run (one trace file): each pid's cwd and its half-printed
 * (`<unfinished ...>`) call.
 *
 * A child inherits its parent's cwd at clone/fork/vfork time (shares it under CLONE_FS, as
 * threads do). Its pid is only known from the parent's return value, and under -f the child's
 * first lines often come before the parent's `<... vfork resumed>) = 3129`. Lines of a pid
 * nobody has returned yet are therefore held back while some process is inside a fork-like
 * call, and replayed once the parent's call returns that pid. If that never happens (the
 * parent was killed, the buffer limit is hit, the file ends) the child adopts the cwd of the
 * most recent process still inside a fork-like call, or failing that the run's initial cwd.
 */

type ProcessLine = SyscallLine | UnfinishedLine | ResumedLine | ExitLine;

interface Proc {
  pid: number;
  /** Thread group (process) id: the pid of the thread group leader. */
  tgid: number;
  cwd: Cwd;
  pending?: UnfinishedLine;
}

const FORK_LIKE = new Set(['clone', 'clone2', 'clone3', 'fork', 'vfork']);

/** Lines held back per unparented pid before giving up on finding its parent. */
const ORPHAN_LINE_LIMIT = 4096;

export class TraceState {
  private readonly procs = new Map<number, Proc>();
  private readonly orphans = new Map<number, ProcessLine[]>();
  /** Pids currently inside a fork-like call, oldest first. */
  private readonly forking = new Set<number>();
  private rootPid: number | undefined;
  private exit: ExitStatus | undefined;
  private exitFromNotice = false;

  constructor(
    private readonly initialCwd: string,
    private readonly out: SummaryBuilder,
    private readonly counts: LineCounts,
  ) {}

  handle(line: ProcessLine): void {
    let proc = this.procs.get(line.pid);
    if (proc === undefined) {
      if (this.rootPid === undefined) {
        this.rootPid = line.pid;
        proc = this.addProc(line.pid, line.pid, { path: this.initialCwd });
      } else if (this.forking.size > 0) {
        this.holdBack(line);
        return;
      } else {
        proc = this.adopt(line.pid);
      }
    }
    this.apply(proc, line);
  }

  /** End of the file: settle held-back pids and calls that never resumed. */
  finish(source?: string): TraceRun {
    for (const pid of [...this.orphans.keys()]) this.adopt(pid);
    for (const proc of this.procs.values()) {
      const pending = proc.pending;
      if (pending === undefined) continue;
      this.counts.unfinishedAtEnd++;
      proc.pending = undefined;
      // The process died inside the call: its arguments still name what it was reaching for.
      const call = parseCallBody(pending.pid, pending.syscall, pending.argsText + ') = ?');
      if (call.kind === 'call' && !FORK_LIKE.has(call.syscall)) applySyscallEffects(call, proc.cwd, this.out);
    }
    const run: TraceRun = { pids: this.procs.size };
    if (source !== undefined) run.source = source;
    if (this.rootPid !== undefined) run.rootPid = this.rootPid;
    if (this.exit !== undefined) run.exit = this.exit;
    return run;
  }

  private apply(proc: Proc, line: ProcessLine): void {
    switch (line.kind) {
      case 'call':
        this.onCall(proc, line);
        return;
      case 'unfinished':
        if (proc.pending !== undefined) this.counts.unfinishedAtEnd++;
        proc.pending = line;
        if (FORK_LIKE.has(line.syscall)) this.forking.add(proc.pid);
        return;
      case 'resumed': {
        const pending = proc.pending;
        if (pending === undefined || pending.syscall !== line.syscall) {
          this.counts.unmatchedResumed++;
          return;
        }
        proc.pending = undefined;
        this.forking.delete(proc.pid);
        const call = joinResumed(pending, line);
        if (call.kind === 'call') {
          this.onCall(proc, call);
        } else {
          // Both halves looked fine but do not make a call: count the resumed line as malformed.
          this.counts.parsed--;
          this.counts.malformed++;
        }
        return;
      }
      case 'exit':
        if (line.pid === this.rootPid) {
          this.exit = exitStatusOf(line);
          this.exitFromNotice = true;
        }
        return;
    }
  }

  private onCall(proc: Proc, call: SyscallLine): void {
    const syscall = call.syscall;
    if (FORK_LIKE.has(syscall)) {
      const child = call.result.value;
      if (child !== undefined && child > 0) this.addChild(proc, child, call.args);
      return;
    }
    if (syscall === 'exit_group') {
      if (proc.tgid === this.rootPid && !this.exitFromNotice) {
        const code = Number(call.args[0]);
        if (Number.isInteger(code)) this.exit = { code: code & 0xff };
      }
      return;
    }
    applySyscallEffects(call, proc.cwd, this.out);
  }

  private addChild(parent: Proc, pid: number, args: string[]): void {
    let shareFs = false;
    let thread = false;
    for (const arg of args) {
      if (hasFlag(arg, 'CLONE_FS')) shareFs = true;
      if (hasFlag(arg, 'CLONE_THREAD')) thread = true;
    }
    const cwd = shareFs ? parent.cwd : { path: parent.cwd.path };
    const tgid = thread ? parent.tgid : pid;
    const known = this.procs.get(pid);
    if (known !== undefined) {
      // Adopted on a guess earlier, or a recycled pid: the parent's return value is the truth.
      known.cwd = cwd;
      known.tgid = tgid;
      return;
    }
    this.replay(this.addProc(pid, tgid, cwd));
  }

  private addProc(pid: number, tgid: number, cwd: Cwd): Proc {
    const proc: Proc = { pid, tgid, cwd };
    this.procs.set(pid, proc);
    return proc;
  }

  private holdBack(line: ProcessLine): void {
    let held = this.orphans.get(line.pid);
    if (held === undefined) this.orphans.set(line.pid, (held = []));
    held.push(line);
    if (held.length >= ORPHAN_LINE_LIMIT) this.adopt(line.pid);
  }

  /** Give a pid whose parent is unknown its best-guess cwd, then replay its held-back lines. */
  private adopt(pid: number): Proc {
    let guess: Proc | undefined;
    for (const forker of this.forking) guess = this.procs.get(forker) ?? guess;
    guess ??= this.rootPid === undefined ? undefined : this.procs.get(this.rootPid);
    const proc = this.addProc(pid, pid, { path: guess?.cwd.path ?? this.initialCwd });
    this.replay(proc);
    return proc;
  }

  private replay(proc: Proc): void {
    const held = this.orphans.get(proc.pid);
    if (held === undefined) return;
    this.orphans.delete(proc.pid);
    for (const line of held) this.apply(proc, line);
  }
}

function exitStatusOf(line: ExitLine): ExitStatus {
  if (line.signal === undefined) return { code: line.code ?? 0 };
  return line.coreDumped ? { signal: line.signal, coreDumped: true } : { signal: line.signal };
}

/** `CLONE_FS` in `flags=CLONE_VM|CLONE_FS|...`, not a prefix of another flag name. */
function hasFlag(text: string, flag: string): boolean {
  let from = 0;
  for (;;) {
    const i = text.indexOf(flag, from);
    if (i < 0) return false;
    const next = text.charCodeAt(i + flag.length);
    if (!((next >= 0x41 && next <= 0x5a) || next === 0x5f)) return true;
    from = i + flag.length;
  }
}
