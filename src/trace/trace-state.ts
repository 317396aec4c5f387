import { LINE_CALL, LINE_EXIT, LINE_RESUMED, LINE_UNFINISHED, LineScan, ScannedCall, type ExitLine, type SyscallInfo } from './strace-line.js';
import { FILE_SYSCALLS, type Cwd, type SyscallEffect } from './syscall-effects.js';
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

export interface Proc {
  pid: number;
  /** Thread group (process) id: the pid of the thread group leader. */
  tgid: number;
  cwd: Cwd;
  pending?: PendingCall;
}

/** A call printed as `<unfinished ...>`, waiting for its `<... resumed>` line. */
export interface PendingCall {
  syscall: string;
  info: Syscall | undefined;
  /** The arguments printed so far. */
  argsText: string;
}

/** What the parser does with a syscall; every syscall not in SYSCALLS is only counted. */
export interface Syscall extends SyscallInfo {
  /** A file syscall's effect on the summary. */
  readonly effect: SyscallEffect | undefined;
  /** clone, fork ...: the return value is a new process. */
  readonly forkLike: boolean;
  readonly exitGroup: boolean;
}

const entry = (name: string, kind: Partial<Syscall>): Syscall =>
  ({ name, effect: undefined, forkLike: false, exitGroup: false, ...kind });

/** The syscall table the trace parser scans lines with (see LineScan). */
export const SYSCALLS: ReadonlyMap<string, Syscall> = new Map([
  ...[...FILE_SYSCALLS.values()].map((effect) => entry(effect.name, { effect })),
  ...['clone', 'clone2', 'clone3', 'fork', 'vfork'].map((name) => entry(name, { forkLike: true })),
  entry('exit_group', { exitGroup: true }),
].map((syscall) => [syscall.name, syscall]));

/** Slots of TraceState's recent-process cache: more than the processes a trace has alive at once, mostly. */
const RECENT_SLOTS = 1024;

/** Lines held back per unparented pid before giving up on finding its parent. */
const ORPHAN_LINE_LIMIT = 4096;

export class TraceState {
  private readonly procs = new Map<number, Proc>();
  /** Processes looked up lately, by pid modulo RECENT_SLOTS (see knownProc). */
  private readonly recent: (Proc | undefined)[] = new Array<Proc | undefined>(RECENT_SLOTS).fill(undefined);
  /** The process of the last line handled (entries of `procs` are never replaced). */
  private last: Proc | undefined;
  /** Held-back lines per pid, as text, scanned again when replayed. */
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

  /** A line scanned (with SYSCALLS) as a call, unfinished, resumed or exit line. */
  handle(line: LineScan<Syscall>): void {
    const pid = line.pid!;
    let proc = this.knownProc(pid);
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
    this.last = proc;
    this.apply(proc, line);
  }

  /**
   * The process `pid`, which then is the last one handled; undefined when it is not known yet
   * (its line has to go through handle()).
   */
  knownProc(pid: number): Proc | undefined {
    // Runs of lines from one process are the rule: skip the map for them.
    if (this.last !== undefined && this.last.pid === pid) return this.last;
    // Then the few processes alive at a time, most likely: skip the map (all pids ever seen) for them too.
    const slot = pid & (RECENT_SLOTS - 1);
    let proc = this.recent[slot];
    if (proc === undefined || proc.pid !== pid) {
      proc = this.procs.get(pid);
      if (proc === undefined) return undefined;
      this.recent[slot] = proc;
    }
    return (this.last = proc);
  }

  /**
   * knownProc, and for a pid not seen yet the process handle() gives it when its line need not
   * be held back (no process is inside a fork-like call): adopted, its held-back lines replayed.
   * Undefined when the line has to go through handle().
   */
  procFor(pid: number): Proc | undefined {
    const proc = this.knownProc(pid);
    if (proc !== undefined || this.rootPid === undefined || this.forking.size > 0) return proc;
    return (this.last = this.adopt(pid));
  }

  /** `proc`'s pending call has resumed. */
  endPending(proc: Proc): void {
    proc.pending = undefined;
    this.forking.delete(proc.pid);
  }

  /** Whether an exit_group by `proc` sets the run's exit status (see onCall). */
  takesExit(proc: Proc): boolean {
    return proc.tgid === this.rootPid && !this.exitFromNotice;
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
      const effect = pending.info?.effect;
      if (effect !== undefined && call.scan(text, 0, text.length) === undefined) {
        effect.run(call, effect.name, proc.cwd, this.out);
      }
    }
    const run: TraceRun = { pids: this.procs.size };
    if (source !== undefined) run.source = source;
    if (this.rootPid !== undefined) run.rootPid = this.rootPid;
    if (this.exit !== undefined) run.exit = this.exit;
    return run;
  }

  private apply(proc: Proc, line: LineScan<Syscall>): void {
    switch (line.kind) {
      case LINE_CALL:
        if (line.info !== undefined) this.onCall(proc, line.info, line.call);
        return;
      case LINE_UNFINISHED:
        if (proc.pending !== undefined) this.counts.unfinishedAtEnd++;
        proc.pending = { syscall: line.syscall, info: line.info, argsText: line.part() };
        if (line.info?.forkLike) this.forking.add(proc.pid);
        return;
      case LINE_RESUMED: {
        const pending = proc.pending;
        if (pending === undefined || pending.syscall !== line.syscall) {
          this.counts.unmatchedResumed++;
          return;
        }
        this.endPending(proc);
        const text = pending.argsText + line.part();
        // A resumed line has no call of its own: its ScannedCall is free for the joined one.
        if (line.call.scan(text, 0, text.length) === undefined) {
          if (pending.info !== undefined) this.onCall(proc, pending.info, line.call);
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

  private onCall(proc: Proc, syscall: Syscall, call: ScannedCall): void {
    if (syscall.effect !== undefined) {
      syscall.effect.run(call, syscall.name, proc.cwd, this.out);
      return;
    }
    if (syscall.forkLike) {
      const child = call.value;
      if (child !== undefined && child > 0) this.addChild(proc, child, call);
      return;
    }
    if (syscall.exitGroup) {
      if (this.takesExit(proc)) {
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
    held.push(line.end === line.text.length ? line.text : line.text.slice(0, line.end));
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
    const line = new LineScan(SYSCALLS);
    for (const text of held) {
      line.scan(text);
      this.apply(proc, line);
    }
  }
}

function exitStatusOf(line: ExitLine): ExitStatus {
  if (line.signal === undefined) return { code: line.code ?? 0 };
  return line.coreDumped ? { signal: line.signal, coreDumped: true } : { signal: line.signal };
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
