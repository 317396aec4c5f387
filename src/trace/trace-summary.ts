import { latin1 } from './line-splitter.js';
import { isAtOrUnder } from './path-resolve.js';
import { PathTable, hashBytes } from './path-table.js';

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

/**
 * An immutable, sorted set of short names (syscalls, errnos), shared by every path that has
 * the same set. A path is touched by a handful of syscalls and the same handfuls recur, so
 * paths hold a reference to a shared set: adding a name already there touches only the
 * (cache-hot) set, not a per-path array. Sets are canonical within one NameSets.
 */
class NameSet {
  /** The set with one more name, once computed. */
  readonly next = new Map<string, NameSet>();
  constructor(readonly names: readonly string[]) {}
}

class NameSets {
  readonly empty = new NameSet([]);
  private readonly byNames = new Map<string, NameSet>([['', this.empty]]);

  with(set: NameSet, name: string): NameSet {
    if (set.names.includes(name)) return set;
    let next = set.next.get(name);
    if (next === undefined) {
      const names = [...set.names, own(name)].sort();
      const key = names.join('\0');
      next = this.byNames.get(key);
      if (next === undefined) this.byNames.set(key, (next = new NameSet(names)));
      set.next.set(own(name), next);
    }
    return next;
  }
}

/**
 * Everything known about one path. The hot path finds it with one map lookup and then
 * updates plain fields, instead of looking the path up again in a map per list.
 */
class PathRecord {
  /** ACCESS_BIT flags of successful (or existence-proving) uses; 0: never used. */
  access = 0;
  useSyscalls: NameSet;
  useErrnos: NameSet;
  /** Joined forms containing `..` (see PathUse.raw), for uses and for misses. */
  useRaw: string[] | undefined;
  realPaths: string[] | undefined;
  /** Syscalls that found the path missing; the empty set: never missed. */
  missSyscalls: NameSet;
  missErrnos: NameSet;
  missRaw: string[] | undefined;
  /** Syscalls that created the path; the empty set: never created. */
  createdBy: NameSet;
  listed = false;
  exec: { count: number; argv0: Set<string> } | undefined;

  constructor(readonly path: string, readonly pseudo: boolean, empty: NameSet) {
    this.useSyscalls = this.useErrnos = this.missSyscalls = this.missErrnos = this.createdBy = empty;
  }
}

function addUnique(list: string[], value: string): void {
  if (!list.includes(value)) list.push(own(value));
}

/**
 * A flat copy of `s`, sharing no memory with the line it was cut from. V8 substrings are views
 * into their parent: a path kept as a map key would keep its whole line alive, and comparing
 * it (every lookup that lands on it) would go through the view to the parent. Trace text is
 * latin1; only UTF-8 file names decoded by path-encoding.ts have wider chars, and they get
 * the older copy (a view into a fresh string of their own).
 */
export function own(s: string): string {
  if (s.length < 13) return s; // V8 copies short substrings: this one is its own string already
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0xff) return (' ' + s).slice(1);
  return Buffer.from(s, 'latin1').toString('latin1');
}

/**
 * Accumulates path events; memory grows with distinct paths, not with trace length.
 * `record(path)` gives a path's PathRecord (the one lookup per path and call); the other
 * methods update a record.
 */
export class SummaryBuilder {
  /**
   * Records by the path's bytes: trace text is latin1 (see line-splitter.ts), so the path
   * strings that come from it are one char per byte, and a line's bytes can be looked up as
   * they are (recordBytes).
   */
  private readonly paths = new PathTable<PathRecord>();
  /** Records of paths with a char above 0xff (UTF-8 names decoded by path-encoding.ts): rare. */
  private readonly widePaths = new Map<string, PathRecord>();
  private readonly renamed = new Map<string, RenamedPath>();
  private readonly sets = new NameSets();
  /** Where record(path) puts a path's chars as bytes, for the byte-keyed lookup. */
  private scratch = Buffer.alloc(256);

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

  record(path: string): PathRecord {
    const n = path.length;
    if (this.scratch.length < n) this.scratch = Buffer.alloc(2 * n);
    const bytes = this.scratch;
    for (let i = 0; i < n; i++) {
      const c = path.charCodeAt(i);
      if (c > 0xff) return this.recordWide(path);
      bytes[i] = c;
    }
    return this.recordBytes(bytes, 0, n);
  }

  /** record() of the path whose latin1 bytes are bytes[start, end). */
  recordBytes(bytes: Buffer, start: number, end: number): PathRecord {
    return this.recordAt(this.idOfBytes(bytes, start, end));
  }

  /**
   * The id of the record recordBytes() gives; `hash` is the bytes' hashBytes(), when the caller
   * has it. With marks() next, a caller learns whether the path has had an effect without
   * reaching for its record (on a big trace, a cache miss).
   */
  idOfBytes(bytes: Buffer, start: number, end: number, hash = hashBytes(bytes, start, end)): number {
    const id = this.paths.findHashed(hash, bytes, start, end);
    if (id >= 0) return id;
    const path = latin1(bytes, start, end);
    return this.paths.add(bytes, start, end, new PathRecord(path, this.isPseudo(path), this.sets.empty), hash);
  }

  recordAt(id: number): PathRecord {
    return this.paths.values[id]!;
  }

  /** The marks (see PathTable) of the record recordBytes() or idOfBytes() gave last: FastLines notes there which effects it had. */
  marks(): number {
    return this.paths.marks();
  }

  mark(bits: number): void {
    this.paths.mark(bits);
  }

  private recordWide(path: string): PathRecord {
    let rec = this.widePaths.get(path);
    if (rec === undefined) {
      const key = own(path);
      rec = new PathRecord(key, this.isPseudo(key), this.sets.empty);
      this.widePaths.set(key, rec);
    }
    return rec;
  }

  use(rec: PathRecord, syscall: string, access: AccessKind, raw?: string, errno?: string): void {
    rec.access |= ACCESS_BIT[access];
    rec.useSyscalls = this.sets.with(rec.useSyscalls, syscall);
    if (raw !== undefined) addUnique((rec.useRaw ??= []), raw);
    if (errno !== undefined) rec.useErrnos = this.sets.with(rec.useErrnos, errno);
  }

  /** Record that opening `rec`'s path (already used) gave an fd whose real path is `real`'s. */
  resolvedTo(rec: PathRecord, real: PathRecord): void {
    if (real === rec || rec.access === 0) return;
    // A record's path is its own string already (see own()): no copy to make.
    const list = (rec.realPaths ??= []);
    if (!list.includes(real.path)) list.push(real.path);
  }

  miss(rec: PathRecord, syscall: string, errno: string, raw?: string): void {
    rec.missSyscalls = this.sets.with(rec.missSyscalls, syscall);
    rec.missErrnos = this.sets.with(rec.missErrnos, errno);
    if (raw !== undefined) addUnique((rec.missRaw ??= []), raw);
  }

  create(rec: PathRecord, syscall: string): void {
    // `>/dev/null` opens with O_CREAT; nothing is created
    if (!rec.pseudo) rec.createdBy = this.sets.with(rec.createdBy, syscall);
  }

  exec(rec: PathRecord, argv0: string | undefined): void {
    const exec = (rec.exec ??= { count: 0, argv0: new Set() });
    exec.count++;
    if (argv0 !== undefined && !exec.argv0.has(argv0)) exec.argv0.add(own(argv0));
  }

  list(rec: PathRecord): void {
    if (!rec.pseudo) rec.listed = true;
  }

  rename(from: string, to: string): void {
    const key = from + '\0' + to;
    if (!this.renamed.has(key)) this.renamed.set(own(key), { from: own(from), to: own(to) });
  }

  build(lines: LineCounts, runs: TraceRun[]): TraceSummary {
    const pids = runs.reduce((sum, run) => sum + run.pids, 0);
    const exit = runs[0]?.exit;
    const summary: TraceSummary = {
      used: [],
      missing: [],
      executed: [],
      created: [],
      listed: [],
      renamed: [...this.renamed.values()],
      pseudo: { used: [], missing: [] },
      pids,
      lines: { ...lines },
      ...(exit === undefined ? {} : { exit }),
      runs,
    };
    // One sort of all records gives every list in path order.
    // Paths are unique (byte strings in one table, wider strings in the other): never equal.
    const records = [...this.paths.values, ...this.widePaths.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
    for (const rec of records) {
      const path = rec.path;
      if (rec.access !== 0) (rec.pseudo ? summary.pseudo.used : summary.used).push(useOf(rec));
      if (rec.missSyscalls.names.length > 0) (rec.pseudo ? summary.pseudo.missing : summary.missing).push(missOf(rec));
      if (rec.exec !== undefined) summary.executed.push({ path, count: rec.exec.count, argv0: [...rec.exec.argv0].sort() });
      if (rec.createdBy.names.length > 0) summary.created.push({ path, syscalls: [...rec.createdBy.names] });
      if (rec.listed) summary.listed.push(path);
    }
    return summary;
  }
}

export type { PathRecord };

function useOf(rec: PathRecord): PathUse {
  const access = ACCESS_KINDS.filter((kind) => (rec.access & ACCESS_BIT[kind]) !== 0);
  const use: PathUse = { path: rec.path, access, syscalls: [...rec.useSyscalls.names] };
  if (rec.useRaw) use.raw = [...rec.useRaw].sort();
  if (rec.realPaths) use.realPaths = [...rec.realPaths].sort();
  if (rec.useErrnos.names.length > 0) use.errnos = [...rec.useErrnos.names];
  return use;
}

function missOf(rec: PathRecord): PathMiss {
  const miss: PathMiss = { path: rec.path, syscalls: [...rec.missSyscalls.names], errnos: [...rec.missErrnos.names] };
  if (rec.missRaw) miss.raw = [...rec.missRaw].sort();
  return miss;
}
