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

const ACCESS_KINDS: readonly AccessKind[] = ['chdir', 'exec', 'list', 'read', 'readlink', 'remove', 'stat', 'write'];
const ACCESS_BIT: Readonly<Record<AccessKind, number>> = {
  chdir: 1, exec: 2, list: 4, read: 8, readlink: 16, remove: 32, stat: 64, write: 128,
};

// Per-path accumulators: a bitmask and short arrays (a path is touched by a handful of
// syscalls), cheaper than Sets on the hot path.
interface UseAcc {
  access: number;
  syscalls: string[];
  raw?: string[];
  realPaths?: string[];
  errnos?: string[];
}

interface MissAcc {
  syscalls: string[];
  errnos: string[];
  raw?: string[];
}

function addUnique(list: string[], value: string): void {
  if (!list.includes(value)) list.push(own(value));
}

/**
 * A copy of `s` that shares no memory with the line it was cut from. V8 substrings are views
 * into their parent, and the parent here is a whole chunk of the trace (up to 1 MiB): keeping
 * a path as a map key would otherwise keep its chunk alive.
 */
function own(s: string): string {
  return (' ' + s).slice(1);
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

  /** Second characters of the pseudo roots: most paths are rejected on one char compare. */
  private readonly pseudoSecondChars: Set<number>;

  constructor(private readonly pseudoRoots: readonly string[] = DEFAULT_PSEUDO_ROOTS) {
    this.pseudoSecondChars = new Set(pseudoRoots.map((root) => root.charCodeAt(1)));
  }

  isPseudo(path: string): boolean {
    if (!this.pseudoSecondChars.has(path.charCodeAt(1))) return false;
    for (const root of this.pseudoRoots) if (isAtOrUnder(path, root)) return true;
    return false;
  }

  use(path: string, syscall: string, access: AccessKind, raw?: string, errno?: string): void {
    const map = this.isPseudo(path) ? this.pseudoUsed : this.used;
    let acc = map.get(path);
    if (acc === undefined) {
      acc = { access: 0, syscalls: [] };
      map.set(own(path), acc);
    }
    acc.access |= ACCESS_BIT[access];
    addUnique(acc.syscalls, syscall);
    if (raw !== undefined) addUnique((acc.raw ??= []), raw);
    if (errno !== undefined) addUnique((acc.errnos ??= []), errno);
  }

  /** Record that opening `path` gave an fd whose real path is `realPath`. */
  resolvedTo(path: string, realPath: string): void {
    if (realPath === path) return;
    const acc = (this.isPseudo(path) ? this.pseudoUsed : this.used).get(path);
    if (acc !== undefined) addUnique((acc.realPaths ??= []), realPath);
  }

  miss(path: string, syscall: string, errno: string, raw?: string): void {
    const map = this.isPseudo(path) ? this.pseudoMissing : this.missing;
    let acc = map.get(path);
    if (acc === undefined) {
      acc = { syscalls: [], errnos: [] };
      map.set(own(path), acc);
    }
    addUnique(acc.syscalls, syscall);
    addUnique(acc.errnos, errno);
    if (raw !== undefined) addUnique((acc.raw ??= []), raw);
  }

  create(path: string, syscall: string): void {
    if (this.isPseudo(path)) return; // `>/dev/null` opens with O_CREAT; nothing is created
    let set = this.created.get(path);
    if (set === undefined) this.created.set(own(path), (set = new Set()));
    set.add(own(syscall));
  }

  exec(path: string, argv0: string | undefined): void {
    let acc = this.executed.get(path);
    if (acc === undefined) this.executed.set(own(path), (acc = { count: 0, argv0: new Set() }));
    acc.count++;
    if (argv0 !== undefined && !acc.argv0.has(argv0)) acc.argv0.add(own(argv0));
  }

  list(path: string): void {
    if (!this.isPseudo(path) && !this.listed.has(path)) this.listed.add(own(path));
  }

  rename(from: string, to: string): void {
    const key = from + '\0' + to;
    if (!this.renamed.has(key)) this.renamed.set(own(key), { from: own(from), to: own(to) });
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
    const access = ACCESS_KINDS.filter((kind) => (acc.access & ACCESS_BIT[kind]) !== 0);
    const use: PathUse = { path, access, syscalls: [...acc.syscalls].sort() };
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
