import { resolvePath, type ResolvedPath } from './path-resolve.js';
import { NO_FD_PATH, type ScannedCall } from './strace-line.js';
import { equalsAt, indexBefore, matchesAt, skipQuoted } from './text-scan.js';
import type { AccessKind, PathRecord, SummaryBuilder } from './trace-summary.js';

/**
 * What each traced file syscall means for the file set. Process syscalls (clone, exit_group)
 * are trace-state.ts's business; everything else not listed here is ignored.
 *
 * Handlers read the arguments they need straight from the scanned line (positions, see
 * ScannedCall) and cut a string only for a path they keep: this runs for most trace lines.
 */

/** A process's working directory; shared by reference between CLONE_FS threads. */
export interface Cwd {
  path: string;
}

/** `name` is the table's own copy of the syscall name: interned, so per-path dedupe is cheap. */
type Handler = (call: ScannedCall, name: string, cwd: Cwd, out: SummaryBuilder) => void;

/** Failures that say nothing about whether the path exists. */
const UNINFORMATIVE_ERRNOS = new Set([
  'EBADF', 'EFAULT', 'ENAMETOOLONG', 'ENOSYS', 'EINTR', 'ENOMEM', 'EMFILE', 'ENFILE', 'EAGAIN',
  'ERESTARTSYS', 'ERESTARTNOINTR', 'ERESTARTNOHAND', 'ERESTART_RESTARTBLOCK',
]);

export const NO_DIRFD = -1;

export interface SyscallEffect {
  /** The table's own copy of the syscall name: interned, so per-path dedupe is cheap. */
  name: string;
  /** Record what the call did; `cwd` is the calling process's working directory. */
  run: Handler;
  /** What `run` does, for fast-lines.ts to do the same from a line's bytes; only the commonest handlers have one. */
  shape?: EffectShape;
}

/**
 * The handlers fast-lines.ts can run itself: `path` is pathCall, `open` is openCall (not
 * creat), `list` is getdents. Their arguments are the factories' arguments.
 */
export interface EffectShape {
  readonly kind: 'path' | 'open' | 'list';
  readonly dirfdIdx: number;
  readonly pathIdx: number;
  /** The flags argument of an open; -1 for the others. */
  readonly flagsIdx: number;
  /** The access recorded by `path` and `list` (an open's follows from its flags). */
  readonly access: AccessKind;
}

/** The shape of each handler that has one (see shaped). */
const SHAPES = new Map<Handler, EffectShape>();

function shaped(run: Handler, shape: EffectShape): Handler {
  SHAPES.set(run, shape);
  return run;
}

/**
 * Resolve the path argument at `pathIdx` (relative to the fd argument at `dirfdIdx`, or to the
 * cwd). An empty path or NULL means the fd itself (AT_EMPTY_PATH, utimensat(fd, NULL)).
 * Learns the cwd from `AT_FDCWD</path>`, which the kernel reports after symlink resolution.
 */
function target(call: ScannedCall, cwd: Cwd, dirfdIdx: number, pathIdx: number): ResolvedPath | undefined {
  if (pathIdx >= call.argc) return undefined;
  const text = call.text;
  let base: string | undefined = cwd.path;
  if (dirfdIdx !== NO_DIRFD) {
    if (dirfdIdx >= call.argc) return undefined;
    const start = call.argStart(dirfdIdx);
    const end = call.argEnd(dirfdIdx);
    if (text.charCodeAt(start) === 0x41 /* A */ && end - start >= 8 && text.indexOf('AT_FDCWD', start) === start) {
      base = learnCwd(cwd, call, start + 8, end);
    } else {
      const fdPath = call.fdArgPath(dirfdIdx);
      if (fdPath === undefined) return undefined;
      base = fdPath === NO_FD_PATH ? undefined : usableFdPath(fdPath);
    }
  }
  const start = call.argStart(pathIdx);
  const end = call.argEnd(pathIdx);
  const c = text.charCodeAt(start);
  if (c !== 0x22 /* " */) {
    // Not a string: NULL (the fd itself), or a pointer strace could not read.
    const isNull = end - start === 4 && matchesAt(text, start, 'NULL');
    return isNull && base !== undefined ? { path: base } : undefined;
  }
  const close = skipQuoted(text, start + 1, end);
  if (close < 0) return undefined;
  if (close === start + 1) {
    return base !== undefined && dirfdIdx !== NO_DIRFD && call.argsInclude('AT_EMPTY_PATH') ? { path: base } : undefined;
  }
  const p = call.decoded(start + 1, close);
  if (p.charCodeAt(0) === 0x2f) return resolvePath('/', p);
  return base === undefined ? undefined : resolvePath(base, p);
}

/**
 * The cwd shown by `AT_FDCWD</path>` (the annotation starting at `at`), which becomes the
 * process's cwd; the cwd as it was when there is no usable annotation. Nearly every line
 * shows the cwd unchanged, so that case is checked in place, without cutting a string.
 */
function learnCwd(cwd: Cwd, call: ScannedCall, at: number, end: number): string {
  const text = call.text;
  if (end - at <= 2 || text.charCodeAt(at) !== 0x3c || text.charCodeAt(end - 1) !== 0x3e) return cwd.path;
  const known = cwd.path;
  if (equalsAt(text, at + 1, end - 1, known) && !call.hasEscapes(at + 1, end - 1)) return known;
  const path = usableFdPath(call.decoded(at + 1, end - 1));
  if (path !== undefined) cwd.path = path;
  return cwd.path;
}

/** Real paths start with `/`; `pipe:[12]`, `socket:[3]`, `anon_inode:...` are not files. */
export function usableFdPath(path: string): string | undefined {
  if (path.charCodeAt(0) !== 0x2f) return undefined;
  return path.charCodeAt(path.length - 1) === 0x29 /* ) */ && path.endsWith(' (deleted)') ? undefined : path;
}

export const OK = 0;
export const MISSING = 1;
export const EXISTS = 2;
export const UNKNOWN = 3;
export const IGNORE = 4;
export type Outcome = typeof OK | typeof MISSING | typeof EXISTS | typeof UNKNOWN | typeof IGNORE;

/** What a call returned, as ScannedCall (and byte-call.ts's ByteCall) read it. */
export interface CallResult {
  readonly value: number | undefined;
  readonly errno: string | undefined;
}

export function outcomeOf(call: CallResult): Outcome {
  const { value, errno } = call;
  if (value === undefined) return UNKNOWN;
  if (value >= 0) return OK;
  if (errno === 'ENOENT' || errno === 'ENOTDIR') return MISSING;
  if (errno === undefined || UNINFORMATIVE_ERRNOS.has(errno)) return IGNORE;
  return EXISTS;
}

/** Record a use of `t` by `call`; returns the path's record when the call succeeded. */
function record(call: ScannedCall, name: string, t: ResolvedPath | undefined, access: AccessKind, out: SummaryBuilder): PathRecord | undefined {
  if (t === undefined) return undefined;
  const outcome = outcomeOf(call);
  return outcome === IGNORE ? undefined : recordOutcome(outcome, call, name, out.record(t.path), access, out, t.raw);
}

/** Record in `rec` what `call` (whose outcome is not IGNORE) showed; returns `rec` when the call succeeded. */
export function recordOutcome(
  outcome: Outcome, call: CallResult, name: string, rec: PathRecord, access: AccessKind, out: SummaryBuilder, raw?: string,
): PathRecord | undefined {
  switch (outcome) {
    case OK:
      out.use(rec, name, access, raw);
      return rec;
    case MISSING:
      out.miss(rec, name, call.errno!, raw);
      return undefined;
    case EXISTS:
      out.use(rec, name, 'stat', raw, call.errno);
      return undefined;
    default:
      // UNKNOWN: the call never returned (the process died in it): keep the path, to be safe.
      out.use(rec, name, 'stat', raw);
      return undefined;
  }
}

/** For calls that create their path: success means it did not exist before. */
function recordCreate(call: ScannedCall, name: string, t: ResolvedPath | undefined, out: SummaryBuilder): void {
  if (t === undefined) return;
  if (outcomeOf(call) === OK) out.create(out.record(t.path), name);
  else record(call, name, t, 'stat', out);
}

function pathCall(dirfdIdx: number, pathIdx: number, access: AccessKind): Handler {
  return shaped((call, name, cwd, out) => {
    record(call, name, target(call, cwd, dirfdIdx, pathIdx), access, out);
  }, { kind: 'path', dirfdIdx, pathIdx, flagsIdx: -1, access });
}

const O_PATH = 1;
const O_WRONLY = 2;
const O_RDWR = 4;
const O_CREAT = 8;

/** The main access of an open with these (OPEN_FLAGS) flags. */
export function openAccess(flags: number): AccessKind {
  return flags & O_PATH ? 'stat' : flags & (O_WRONLY | O_RDWR) ? 'write' : 'read';
}

/** What a successful open with these flags did besides its main access to `rec`. */
export function recordOpenFlags(flags: number, rec: PathRecord, name: string, out: SummaryBuilder, raw?: string): void {
  if (flags & O_RDWR) out.use(rec, name, 'read', raw);
  if (flags & O_CREAT) out.create(rec, name);
}

/** OPEN_FLAGS[i] is the flag whose bit is 1 << i. */
const OPEN_FLAGS = ['O_PATH', 'O_WRONLY', 'O_RDWR', 'O_CREAT'];

/** The last flags argument read, and its OPEN_FLAGS: an open mostly has the flags of the one before. */
let lastFlagsText = '';
let lastFlags = 0;

/** The open flags that matter here, from the flags argument (or the fixed flags of creat). */
function openFlags(call: ScannedCall, flagsIdx: number, fixedFlags: string | undefined): number {
  if (fixedFlags !== undefined) return flagsIn(fixedFlags, 0, fixedFlags.length);
  if (flagsIdx >= call.argc) return 0;
  const start = call.argStart(flagsIdx);
  const end = call.argEnd(flagsIdx);
  if (!equalsAt(call.text, start, end, lastFlagsText)) {
    lastFlags = flagsIn(call.text, start, end);
    lastFlagsText = call.text.slice(start, end);
  }
  return lastFlags;
}

/** OPEN_FLAGS found anywhere in text[start, end) (as `includes` would), visiting each `O_` once. */
export function flagsIn(text: string, start: number, end: number): number {
  let flags = 0;
  for (let at = indexBefore(text, 'O_', start, end); at >= 0; at = indexBefore(text, 'O_', at + 1, end)) {
    for (let k = 0; k < OPEN_FLAGS.length; k++) {
      const flag = OPEN_FLAGS[k]!;
      if (at + flag.length <= end && matchesAt(text, at, flag)) flags |= 1 << k;
    }
  }
  return flags;
}

function openCall(dirfdIdx: number, pathIdx: number, flagsIdx: number, fixedFlags?: string): Handler {
  const run: Handler = (call, name, cwd, out) => {
    const t = target(call, cwd, dirfdIdx, pathIdx);
    if (t === undefined) return;
    const flags = openFlags(call, flagsIdx, fixedFlags);
    const access = openAccess(flags);
    const rec = record(call, name, t, access, out);
    if (rec === undefined) return;
    recordOpenFlags(flags, rec, name, out, t.raw);
    const fdPath = resultPathOtherThan(call, t.path);
    if (fdPath !== undefined) {
      const real = out.record(fdPath);
      out.use(real, name, access);
      out.resolvedTo(rec, real);
    }
  };
  return fixedFlags === undefined ? shaped(run, { kind: 'open', dirfdIdx, pathIdx, flagsIdx, access: 'read' }) : run;
}

/** The usable -y path of the returned fd, when it differs from `path` (a symlink was followed). */
function resultPathOtherThan(call: ScannedCall, path: string): string | undefined {
  if (call.fdPathIs(path)) return undefined; // the usual case, checked without decoding
  const fdPath = call.fdPath();
  const usable = fdPath === undefined ? undefined : usableFdPath(fdPath);
  return usable === path ? undefined : usable;
}

function createCall(dirfdIdx: number, pathIdx: number): Handler {
  return (call, name, cwd, out) => recordCreate(call, name, target(call, cwd, dirfdIdx, pathIdx), out);
}

function renameCall(oldDirIdx: number, oldIdx: number, newDirIdx: number, newIdx: number): Handler {
  return (call, name, cwd, out) => {
    const from = target(call, cwd, oldDirIdx, oldIdx);
    const to = target(call, cwd, newDirIdx, newIdx);
    if (record(call, name, from, 'remove', out) === undefined || from === undefined || to === undefined) return;
    out.create(out.record(to.path), name);
    out.rename(from.path, to.path);
  };
}

function linkCall(oldDirIdx: number, oldIdx: number, newDirIdx: number, newIdx: number): Handler {
  return (call, name, cwd, out) => {
    const to = target(call, cwd, newDirIdx, newIdx);
    if (record(call, name, target(call, cwd, oldDirIdx, oldIdx), 'stat', out) !== undefined && to !== undefined) {
      out.create(out.record(to.path), name);
    }
  };
}

function chdirCall(dirfdIdx: number, pathIdx: number): Handler {
  return (call, name, cwd, out) => {
    const t = target(call, cwd, dirfdIdx, pathIdx);
    if (record(call, name, t, 'chdir', out) !== undefined && t !== undefined) cwd.path = t.path;
  };
}

function fdCall(access: AccessKind, onSuccess?: (rec: PathRecord, out: SummaryBuilder, cwd: Cwd) => void): Handler {
  return (call, name, cwd, out) => {
    if (call.argc === 0) return;
    const fdPath = call.fdArgPath(0);
    const path = fdPath === undefined || fdPath === NO_FD_PATH ? undefined : usableFdPath(fdPath);
    if (path === undefined) return;
    const rec = record(call, name, { path }, access, out);
    if (rec !== undefined) onSuccess?.(rec, out, cwd);
  };
}

function execCall(dirfdIdx: number, pathIdx: number): Handler {
  return (call, name, cwd, out) => {
    const t = target(call, cwd, dirfdIdx, pathIdx);
    const rec = record(call, name, t, 'exec', out);
    if (rec !== undefined) out.exec(rec, firstArrayString(call, pathIdx + 1));
  };
}

/** The first string of a printed array (`["ls", "-l"]` -> `ls`). */
function firstArrayString(call: ScannedCall, i: number): string | undefined {
  if (i >= call.argc) return undefined;
  const start = call.argStart(i);
  const end = call.argEnd(i);
  if (end - start < 2 || call.text.charCodeAt(start) !== 0x5b || call.text.charCodeAt(start + 1) !== 0x22) return undefined;
  const close = skipQuoted(call.text, start + 2, end);
  return close < 0 ? undefined : call.decoded(start + 2, close);
}

const stat = (pathIdx = 0): Handler => pathCall(NO_DIRFD, pathIdx, 'stat');
const listCall = (): Handler =>
  shaped(fdCall('list', (rec, out) => out.list(rec)), { kind: 'list', dirfdIdx: NO_DIRFD, pathIdx: 0, flagsIdx: -1, access: 'list' });
const meta = (pathIdx = 0): Handler => pathCall(NO_DIRFD, pathIdx, 'write');

/** The file syscalls, by name. */
export const FILE_SYSCALLS: ReadonlyMap<string, SyscallEffect> = new Map(([
  ['open', openCall(NO_DIRFD, 0, 1)],
  ['creat', openCall(NO_DIRFD, 0, 1, 'O_WRONLY|O_CREAT|O_TRUNC')],
  ['openat', openCall(0, 1, 2)],
  ['openat2', openCall(0, 1, 2)],
  ['execve', execCall(NO_DIRFD, 0)],
  ['execveat', execCall(0, 1)],

  ['stat', stat()], ['lstat', stat()], ['stat64', stat()], ['lstat64', stat()],
  ['oldstat', stat()], ['oldlstat', stat()], ['access', stat()], ['statfs', stat()],
  ['statfs64', stat()], ['getxattr', stat()], ['lgetxattr', stat()], ['listxattr', stat()],
  ['llistxattr', stat()], ['inotify_add_watch', stat(1)],
  ['newfstatat', pathCall(0, 1, 'stat')], ['fstatat64', pathCall(0, 1, 'stat')],
  ['statx', pathCall(0, 1, 'stat')], ['faccessat', pathCall(0, 1, 'stat')],
  ['faccessat2', pathCall(0, 1, 'stat')], ['name_to_handle_at', pathCall(0, 1, 'stat')],

  ['readlink', pathCall(NO_DIRFD, 0, 'readlink')], ['readlinkat', pathCall(0, 1, 'readlink')],

  ['chmod', meta()], ['chown', meta()], ['lchown', meta()], ['chown32', meta()],
  ['lchown32', meta()], ['truncate', meta()], ['truncate64', meta()], ['utime', meta()],
  ['utimes', meta()], ['setxattr', meta()], ['lsetxattr', meta()], ['removexattr', meta()],
  ['lremovexattr', meta()], ['acct', meta()],
  ['fchmodat', pathCall(0, 1, 'write')], ['fchmodat2', pathCall(0, 1, 'write')],
  ['fchownat', pathCall(0, 1, 'write')], ['futimesat', pathCall(0, 1, 'write')],
  ['utimensat', pathCall(0, 1, 'write')],

  ['mkdir', createCall(NO_DIRFD, 0)], ['mkdirat', createCall(0, 1)],
  ['mknod', createCall(NO_DIRFD, 0)], ['mknodat', createCall(0, 1)],
  ['symlink', createCall(NO_DIRFD, 1)], ['symlinkat', createCall(1, 2)],
  ['link', linkCall(NO_DIRFD, 0, NO_DIRFD, 1)], ['linkat', linkCall(0, 1, 2, 3)],
  ['rename', renameCall(NO_DIRFD, 0, NO_DIRFD, 1)], ['renameat', renameCall(0, 1, 2, 3)],
  ['renameat2', renameCall(0, 1, 2, 3)],
  ['unlink', pathCall(NO_DIRFD, 0, 'remove')], ['rmdir', pathCall(NO_DIRFD, 0, 'remove')],
  ['unlinkat', pathCall(0, 1, 'remove')],

  ['chdir', chdirCall(NO_DIRFD, 0)],
  // chroot is recorded but not followed: later paths are still taken as seen from `/`.
  ['chroot', pathCall(NO_DIRFD, 0, 'chdir')],
  ['fchdir', fdCall('chdir', (rec, _out, cwd) => { cwd.path = rec.path; })],
  ['getdents', listCall()],
  ['getdents64', listCall()],
] as [string, Handler][]).map(([name, run]) => [name, { name, run, shape: SHAPES.get(run) }]));
