import { isAtOrUnder } from './path-resolve.js';

/**
 * What a trace says the application did with the filesystem. Every list is sorted by path
 * (plain code-unit order) so the same trace always gives the same summary.
 */
export interface TraceSummary {
  /** Paths that were successfully accessed (or proven to exist), outside the pseudo roots. */
  used: PathUse[];
  /** Paths looked up and not found (ENOENT, ENOTDIR): what the app searched for. */
  missing: PathMiss[];
  /** Successful execve/execveat targets. */
  executed: ExecutedPath[];
  /** Paths the app created: O_CREAT opens, mkdir, mknod, symlink/link/rename targets (no pseudo). */
  created: CreatedPath[];
  /** Directories whose entries were read (getdents/getdents64), outside the pseudo roots. */
  listed: string[];
  /** Successful renames, in trace order, without duplicates. */
  renamed: RenamedPath[];
  /** Uses and misses under the pseudo roots (default `/proc`, `/sys`, `/dev`). */
  pseudo: { used: PathUse[]; missing: PathMiss[] };
  /** Distinct processes and threads seen, over all runs. */
  pids: number;
  lines: LineCounts;
  /** Exit status of the first run's main process, when the trace shows it. */
  exit?: ExitStatus;
  /** One entry per trace file fed to the parser. */
  runs: TraceRun[];
}

/**
 * How a path was touched. `write` includes metadata changes (chmod, chown, utimes, xattrs);
 * `remove` is unlink/rmdir and the source of a rename; `stat` is any lookup that only shows
 * the path exists (stat, access, statfs, a failed call that returned EACCES/EEXIST ...).
 */
export type AccessKind = 'read' | 'write' | 'exec' | 'stat' | 'list' | 'readlink' | 'chdir' | 'remove';

export interface PathUse {
  path: string;
  access: AccessKind[];
  syscalls: string[];
  /** Joined forms containing `..`, for symlink-aware resolution (see path-resolve.ts). */
  raw?: string[];
  /** The -y paths of fds opened through this path, when they differ from it (symlinks). */
  realPaths?: string[];
  /** Errors that still prove the path exists (EACCES, EEXIST, ELOOP, EINVAL from readlink ...). */
  errnos?: string[];
}

export interface PathMiss {
  path: string;
  syscalls: string[];
  /** ENOENT and/or ENOTDIR. */
  errnos: string[];
  raw?: string[];
}

export interface CreatedPath {
  path: string;
  syscalls: string[];
}

export interface ExecutedPath {
  path: string;
  count: number;
  /** Distinct argv[0] values (multi-call binaries such as busybox dispatch on it). */
  argv0: string[];
}

export interface RenamedPath {
  from: string;
  to: string;
}

export interface ExitStatus {
  code?: number;
  signal?: string;
  coreDumped?: boolean;
}

export interface LineCounts {
  total: number;
  /** Syscall lines understood (complete, unfinished or resumed). */
  parsed: number;
  /** Lines deliberately ignored: signals, `+++` notices, blank lines. */
  skipped: number;
  /** Lines that could not be parsed (truncated, garbage). */
  malformed: number;
  /** `<... x resumed>` lines with no matching `<unfinished ...>` line. */
  unmatchedResumed: number;
  /** `<unfinished ...>` calls never resumed before the end of their file. */
  unfinishedAtEnd: number;
}

export interface TraceRun {
  /** Name given to `startFile`, if any. */
  source?: string;
  /** The first pid of the file: the traced command. */
  rootPid?: number;
  pids: number;
  exit?: ExitStatus;
}

export const DEFAULT_PSEUDO_ROOTS: readonly string[] = ['/proc', '/sys', '/dev'];

interface UseAcc {
  access: Set<AccessKind>;
  syscalls: Set<string>;
  raw?: Set<string>;
  realPaths?: Set<string>;
  errnos?: Set<string>;
}

interface MissAcc {
  syscalls: Set<string>;
  errnos: Set<string>;
  raw?: Set<string>;
}

/** Accumulates path events; memory grows with distinct paths, not with trace length. */
export class SummaryBuilder {
  private readonly used = new Map<string, UseAcc>();
  private readonly pseudoUsed = new Map<string, UseAcc>();
  private readonly missing = new Map<string, MissAcc>();
  private readonly pseudoMissing = new Map<string, MissAcc>();
  private readonly created = new Map<string, Set<string>>();
  private readonly executed = new Map<string, { count: number; argv0: Set<string> }>();
  private readonly listed = new Set<string>();
  private readonly renamed = new Map<string, RenamedPath>();

  constructor(private readonly pseudoRoots: readonly string[] = DEFAULT_PSEUDO_ROOTS) {}

  isPseudo(path: string): boolean {
    for (const root of this.pseudoRoots) if (isAtOrUnder(path, root)) return true;
    return false;
  }

  use(path: string, syscall: string, access: AccessKind, raw?: string, errno?: string): void {
    const map = this.isPseudo(path) ? this.pseudoUsed : this.used;
    let acc = map.get(path);
    if (acc === undefined) {
      acc = { access: new Set(), syscalls: new Set() };
      map.set(path, acc);
    }
    acc.access.add(access);
    acc.syscalls.add(syscall);
    if (raw !== undefined) (acc.raw ??= new Set()).add(raw);
    if (errno !== undefined) (acc.errnos ??= new Set()).add(errno);
  }

  /** Record that opening `path` gave an fd whose real path is `realPath`. */
  resolvedTo(path: string, realPath: string): void {
    if (realPath === path) return;
    const acc = (this.isPseudo(path) ? this.pseudoUsed : this.used).get(path);
    if (acc !== undefined) (acc.realPaths ??= new Set()).add(realPath);
  }

  miss(path: string, syscall: string, errno: string, raw?: string): void {
    const map = this.isPseudo(path) ? this.pseudoMissing : this.missing;
    let acc = map.get(path);
    if (acc === undefined) {
      acc = { syscalls: new Set(), errnos: new Set() };
      map.set(path, acc);
    }
    acc.syscalls.add(syscall);
    acc.errnos.add(errno);
    if (raw !== undefined) (acc.raw ??= new Set()).add(raw);
  }

  create(path: string, syscall: string): void {
    if (this.isPseudo(path)) return; // `>/dev/null` opens with O_CREAT; nothing is created
    let set = this.created.get(path);
    if (set === undefined) this.created.set(path, (set = new Set()));
    set.add(syscall);
  }

  exec(path: string, argv0: string | undefined): void {
    let acc = this.executed.get(path);
    if (acc === undefined) this.executed.set(path, (acc = { count: 0, argv0: new Set() }));
    acc.count++;
    if (argv0 !== undefined) acc.argv0.add(argv0);
  }

  list(path: string): void {
    if (!this.isPseudo(path)) this.listed.add(path);
  }

  rename(from: string, to: string): void {
    const key = from + '\0' + to;
    if (!this.renamed.has(key)) this.renamed.set(key, { from, to });
  }

  build(lines: LineCounts, runs: TraceRun[]): TraceSummary {
    const pids = runs.reduce((sum, run) => sum + run.pids, 0);
    const exit = runs[0]?.exit;
    return {
      used: usesOf(this.used),
      missing: missesOf(this.missing),
      executed: sortedKeys(this.executed).map((path) => {
        const acc = this.executed.get(path)!;
        return { path, count: acc.count, argv0: [...acc.argv0].sort() };
      }),
      created: sortedKeys(this.created).map((path) => ({ path, syscalls: [...this.created.get(path)!].sort() })),
      listed: [...this.listed].sort(),
      renamed: [...this.renamed.values()],
      pseudo: { used: usesOf(this.pseudoUsed), missing: missesOf(this.pseudoMissing) },
      pids,
      lines: { ...lines },
      ...(exit === undefined ? {} : { exit }),
      runs,
    };
  }
}

function usesOf(map: Map<string, UseAcc>): PathUse[] {
  return sortedKeys(map).map((path) => {
    const acc = map.get(path)!;
    const use: PathUse = { path, access: [...acc.access].sort(), syscalls: [...acc.syscalls].sort() };
    if (acc.raw) use.raw = [...acc.raw].sort();
    if (acc.realPaths) use.realPaths = [...acc.realPaths].sort();
    if (acc.errnos) use.errnos = [...acc.errnos].sort();
    return use;
  });
}

function missesOf(map: Map<string, MissAcc>): PathMiss[] {
  return sortedKeys(map).map((path) => {
    const acc = map.get(path)!;
    const miss: PathMiss = { path, syscalls: [...acc.syscalls].sort(), errnos: [...acc.errnos].sort() };
    if (acc.raw) miss.raw = [...acc.raw].sort();
    return miss;
  });
}

function sortedKeys(map: Map<string, unknown>): string[] {
  return [...map.keys()].sort();
}
