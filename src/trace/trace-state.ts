import { LINE_CALL, LINE_EXIT, LINE_RESUMED, LINE_UNFINISHED, LineScan, ScannedCall, type ExitLine } from './strace-line.js';
import { syscallEffect, type Cwd } from './syscall-effects.js';
import { own, type ExitStatus, type LineCounts, type SummaryBuilder, type TraceRun } from './trace-summary.js';

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

interface Proc {
  pid: number;
  /** Thread group (process) id: the pid of the thread group leader. */
  tgid: number;
  cwd: Cwd;
  pending?: PendingCall;
}

/** A call printed as `<unfinished ...>`, waiting for its `<... resumed>` line. */
interface PendingCall {
  syscall: string;
  /** The arguments printed so far; owned copies (see `own`), as they may wait a long time. */
  argsText: string;
}

const FORK_LIKE = new Set(['clone', 'clone2', 'clone3', 'fork', 'vfork']);

/** Lines held back per unparented pid before giving up on finding its parent. */
const ORPHAN_LINE_LIMIT = 4096;

export class TraceState {
  private readonly procs = new Map<number, Proc>();
  /** Held-back lines per pid, as text (owned copies), scanned again when replayed. */
  private readonly orphans = new Map<number, string[]>();
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

  /** A line scanned as a call, unfinished, resumed or exit line. */
  handle(line: LineScan): void {
    const pid = line.pid!;
    let proc = this.procs.get(pid);
    if (proc === undefined) {
      if (this.rootPid === undefined) {
        this.rootPid = pid;
        proc = this.addProc(pid, pid, { path: this.initialCwd });
      } else if (this.forking.size > 0) {
        this.holdBack(pid, line);
        return;
      } else {
        proc = this.adopt(pid);
      }
    }
    this.apply(proc, line);
  }

  /** End of the file: settle held-back pids and calls that never resumed. */
  finish(source?: string): TraceRun {
    for (const pid of [...this.orphans.keys()]) this.adopt(pid);
    const call = new ScannedCall();
    for (const proc of this.procs.values()) {
      const pending = proc.pending;
      if (pending === undefined) continue;
      this.counts.unfinishedAtEnd++;
      proc.pending = undefined;
      // The process died inside the call: its arguments still name what it was reaching for.
      const text = pending.argsText + ') = ?';
      const effect = syscallEffect(pending.syscall);
      if (effect !== undefined && call.scan(text, 0, text.length) === undefined) effect.run(call, effect.name, proc.cwd, this.out);
    }
    const run: TraceRun = { pids: this.procs.size };
    if (source !== undefined) run.source = source;
    if (this.rootPid !== undefined) run.rootPid = this.rootPid;
    if (this.exit !== undefined) run.exit = this.exit;
    return run;
  }

  private apply(proc: Proc, line: LineScan): void {
    switch (line.kind) {
      case LINE_CALL:
        this.onCall(proc, line.syscall, line.call);
        return;
      case LINE_UNFINISHED:
        if (proc.pending !== undefined) this.counts.unfinishedAtEnd++;
        proc.pending = { syscall: own(line.syscall), argsText: own(line.part()) };
        if (FORK_LIKE.has(line.syscall)) this.forking.add(proc.pid);
        return;
      case LINE_RESUMED: {
        const pending = proc.pending;
        if (pending === undefined || pending.syscall !== line.syscall) {
          this.counts.unmatchedResumed++;
          return;
        }
        proc.pending = undefined;
        this.forking.delete(proc.pid);
        const text = pending.argsText + line.part();
        // A resumed line has no call of its own: its ScannedCall is free for the joined one.
        if (line.call.scan(text, 0, text.length) === undefined) {
          this.onCall(proc, pending.syscall, line.call);
        } else {
          // Both halves looked fine but do not make a call: count the resumed line as malformed.
          this.counts.parsed--;
          this.counts.malformed++;
        }
        return;
      }
      case LINE_EXIT:
        if (proc.pid === this.rootPid) {
          this.exit = exitStatusOf(line.notice as ExitLine);
          this.exitFromNotice = true;
        }
        return;
    }
  }

  private onCall(proc: Proc, syscall: string, call: ScannedCall): void {
    // File syscalls first: they are most lines, and the tables do not overlap.
    const effect = syscallEffect(syscall);
    if (effect !== undefined) {
      effect.run(call, effect.name, proc.cwd, this.out);
      return;
    }
    if (FORK_LIKE.has(syscall)) {
      const child = call.value;
      if (child !== undefined && child > 0) this.addChild(proc, child, call);
      return;
    }
    if (syscall === 'exit_group') {
      if (proc.tgid === this.rootPid && !this.exitFromNotice) {
        const code = Number(call.arg(0));
        if (Number.isInteger(code)) this.exit = { code: code & 0xff };
      }
    }
  }

  private addChild(parent: Proc, pid: number, call: ScannedCall): void {
    const shareFs = hasFlag(call, 'CLONE_FS');
    const thread = hasFlag(call, 'CLONE_THREAD');
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

  private holdBack(pid: number, line: LineScan): void {
    let held = this.orphans.get(pid);
    if (held === undefined) this.orphans.set(pid, (held = []));
    held.push(own(line.text.slice(0, line.end)));
    if (held.length >= ORPHAN_LINE_LIMIT) this.adopt(pid);
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
    // A scanner of its own: replay can happen while the caller's line is still being handled.
    const line = new LineScan();
    for (const text of held) {
      line.scan(text);
      this.apply(proc, line);
    }
  }
}

function exitStatusOf(line: ExitLine): ExitStatus {
  if (line.signal === undefined) return { code: line.code ?? 0 };
  const signal = own(line.signal);
  return line.coreDumped ? { signal, coreDumped: true } : { signal };
}

/** `CLONE_FS` in `flags=CLONE_VM|CLONE_FS|...`, not a prefix of another flag name. */
function hasFlag(call: ScannedCall, flag: string): boolean {
  let from = 0;
  for (;;) {
    const i = call.argsIndexOf(flag, from);
    if (i < 0) return false;
    const next = call.text.charCodeAt(i + flag.length);
    if (!((next >= 0x41 && next <= 0x5a) || next === 0x5f)) return true;
    from = i + flag.length;
  }
}
