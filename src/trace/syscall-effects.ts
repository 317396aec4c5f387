import { decodeCString, decodeCStringValue, unescapeC } from './c-string.js';
import { resolvePath, type ResolvedPath } from './path-resolve.js';
import { decodeFdArg, type SyscallLine } from './strace-line.js';
import type { AccessKind, SummaryBuilder } from './trace-summary.js';

/**
 * What each traced file syscall means for the file set. Process syscalls (clone, exit_group)
 * are trace-state.ts's business; everything else not listed here is ignored.
 */

/** A process's working directory; shared by reference between CLONE_FS threads. */
export interface Cwd {
  path: string;
}

/** `name` is the table's own copy of the syscall name: interned, so per-path dedupe is cheap. */
type Handler = (call: SyscallLine, name: string, cwd: Cwd, out: SummaryBuilder) => void;

/** Failures that say nothing about whether the path exists. */
const UNINFORMATIVE_ERRNOS = new Set([
  'EBADF', 'EFAULT', 'ENAMETOOLONG', 'ENOSYS', 'EINTR', 'ENOMEM', 'EMFILE', 'ENFILE', 'EAGAIN',
  'ERESTARTSYS', 'ERESTARTNOINTR', 'ERESTARTNOHAND', 'ERESTART_RESTARTBLOCK',
]);

const NO_DIRFD = -1;

/** Record what `call` did; `cwd` is the calling process's working directory. */
export function applySyscallEffects(call: SyscallLine, cwd: Cwd, out: SummaryBuilder): void {
  const entry = HANDLERS.get(call.syscall);
  if (entry !== undefined) entry.run(call, entry.name, cwd, out);
}

/** Names of the syscalls that affect the summary (the parser skips argument work for others). */
export function hasSyscallEffects(syscall: string): boolean {
  return HANDLERS.has(syscall);
}

/**
 * Resolve the path argument at `pathIdx` (relative to the fd argument at `dirfdIdx`, or to the
 * cwd). An empty path or NULL means the fd itself (AT_EMPTY_PATH, utimensat(fd, NULL)).
 * Learns the cwd from `AT_FDCWD</path>`, which the kernel reports after symlink resolution.
 */
function target(call: SyscallLine, cwd: Cwd, dirfdIdx: number, pathIdx: number): ResolvedPath | undefined {
  const arg = call.args[pathIdx];
  if (arg === undefined) return undefined;
  let base: string | undefined = cwd.path;
  if (dirfdIdx !== NO_DIRFD) {
    const fdArg = call.args[dirfdIdx];
    if (fdArg === undefined) return undefined;
    if (fdArg.startsWith('AT_FDCWD')) {
      const fdPath = annotationOf(fdArg, 8);
      if (fdPath !== undefined) base = cwd.path = fdPath;
    } else {
      const fd = decodeFdArg(fdArg);
      if (fd === undefined) return undefined;
      base = fd.path === undefined ? undefined : usableFdPath(fd.path);
    }
  }
  if (arg === 'NULL') return base === undefined ? undefined : { path: base };
  const p = decodeCStringValue(arg);
  if (p === undefined) return undefined;
  if (p === '') return base !== undefined && dirfdIdx !== NO_DIRFD && hasEmptyPathFlag(call) ? { path: base } : undefined;
  if (p.charCodeAt(0) === 0x2f) return resolvePath('/', p);
  return base === undefined ? undefined : resolvePath(base, p);
}

/** The usable path in `<...>` starting at `at` (`AT_FDCWD</x>` with at = 8), if any. */
function annotationOf(arg: string, at: number): string | undefined {
  if (arg.length <= at + 2 || arg.charCodeAt(at) !== 0x3c || arg.charCodeAt(arg.length - 1) !== 0x3e) return undefined;
  return usableFdPath(unescapeC(arg, at + 1, arg.length - 1));
}

/** Real paths start with `/`; `pipe:[12]`, `socket:[3]`, `anon_inode:...` are not files. */
export function usableFdPath(path: string): string | undefined {
  if (path.charCodeAt(0) !== 0x2f) return undefined;
  return path.endsWith(' (deleted)') ? undefined : path;
}

function hasEmptyPathFlag(call: SyscallLine): boolean {
  for (const a of call.args) if (a.includes('AT_EMPTY_PATH')) return true;
  return false;
}

type Outcome = 'ok' | 'missing' | 'exists' | 'unknown' | 'ignore';

function outcomeOf(call: SyscallLine): Outcome {
  const { value, errno } = call.result;
  if (value === undefined) return 'unknown';
  if (value >= 0) return 'ok';
  if (errno === 'ENOENT' || errno === 'ENOTDIR') return 'missing';
  if (errno === undefined || UNINFORMATIVE_ERRNOS.has(errno)) return 'ignore';
  return 'exists';
}

/** Record a use of `t` by `call`; returns whether the call succeeded. */
function record(call: SyscallLine, name: string, t: ResolvedPath | undefined, access: AccessKind, out: SummaryBuilder): boolean {
  if (t === undefined) return false;
  switch (outcomeOf(call)) {
    case 'ok':
      out.use(t.path, name, access, t.raw);
      return true;
    case 'missing':
      out.miss(t.path, name, call.result.errno!, t.raw);
      return false;
    case 'exists':
      out.use(t.path, name, 'stat', t.raw, call.result.errno);
      return false;
    case 'unknown':
      // The call never returned (the process died in it): keep the path, to be safe.
      out.use(t.path, name, 'stat', t.raw);
      return false;
    case 'ignore':
      return false;
  }
}

/** For calls that create their path: success means it did not exist before. */
function recordCreate(call: SyscallLine, name: string, t: ResolvedPath | undefined, out: SummaryBuilder): void {
  if (t === undefined) return;
  if (outcomeOf(call) === 'ok') out.create(t.path, name);
  else record(call, name, t, 'stat', out);
}

function pathCall(dirfdIdx: number, pathIdx: number, access: AccessKind): Handler {
  return (call, name, cwd, out) => {
    record(call, name, target(call, cwd, dirfdIdx, pathIdx), access, out);
  };
}

function openCall(dirfdIdx: number, pathIdx: number, flagsIdx: number, fixedFlags?: string): Handler {
  return (call, name, cwd, out) => {
    const t = target(call, cwd, dirfdIdx, pathIdx);
    if (t === undefined) return;
    const flags = fixedFlags ?? call.args[flagsIdx] ?? '';
    const access: AccessKind = flags.includes('O_PATH')
      ? 'stat'
      : flags.includes('O_WRONLY') || flags.includes('O_RDWR') ? 'write' : 'read';
    if (!record(call, name, t, access, out)) return;
    if (flags.includes('O_RDWR')) out.use(t.path, name, 'read', t.raw);
    if (flags.includes('O_CREAT')) out.create(t.path, name);
    const fdPath = call.result.fdPath === undefined ? undefined : usableFdPath(call.result.fdPath);
    if (fdPath !== undefined && fdPath !== t.path) {
      out.use(fdPath, name, access);
      out.resolvedTo(t.path, fdPath);
    }
  };
}

function createCall(dirfdIdx: number, pathIdx: number): Handler {
  return (call, name, cwd, out) => recordCreate(call, name, target(call, cwd, dirfdIdx, pathIdx), out);
}

function renameCall(oldDirIdx: number, oldIdx: number, newDirIdx: number, newIdx: number): Handler {
  return (call, name, cwd, out) => {
    const from = target(call, cwd, oldDirIdx, oldIdx);
    const to = target(call, cwd, newDirIdx, newIdx);
    if (!record(call, name, from, 'remove', out) || from === undefined || to === undefined) return;
    out.create(to.path, name);
    out.rename(from.path, to.path);
  };
}

function linkCall(oldDirIdx: number, oldIdx: number, newDirIdx: number, newIdx: number): Handler {
  return (call, name, cwd, out) => {
    const to = target(call, cwd, newDirIdx, newIdx);
    if (record(call, name, target(call, cwd, oldDirIdx, oldIdx), 'stat', out) && to !== undefined) {
      out.create(to.path, name);
    }
  };
}

function chdirCall(dirfdIdx: number, pathIdx: number): Handler {
  return (call, name, cwd, out) => {
    const t = target(call, cwd, dirfdIdx, pathIdx);
    if (record(call, name, t, 'chdir', out) && t !== undefined) cwd.path = t.path;
  };
}

function fdCall(access: AccessKind, onSuccess?: (path: string, out: SummaryBuilder, cwd: Cwd) => void): Handler {
  return (call, name, cwd, out) => {
    const fd = decodeFdArg(call.args[0] ?? '');
    const path = fd?.path === undefined ? undefined : usableFdPath(fd.path);
    if (path === undefined) return;
    if (record(call, name, { path }, access, out)) onSuccess?.(path, out, cwd);
  };
}

function execCall(dirfdIdx: number, pathIdx: number): Handler {
  return (call, name, cwd, out) => {
    const t = target(call, cwd, dirfdIdx, pathIdx);
    if (!record(call, name, t, 'exec', out) || t === undefined) return;
    out.exec(t.path, firstArrayString(call.args[pathIdx + 1]));
  };
}

/** The first string of a printed array (`["ls", "-l"]` -> `ls`). */
function firstArrayString(arg: string | undefined): string | undefined {
  if (arg === undefined || arg.charCodeAt(0) !== 0x5b) return undefined;
  return decodeCString(arg.slice(1))?.value;
}

const stat = (pathIdx = 0): Handler => pathCall(NO_DIRFD, pathIdx, 'stat');
const meta = (pathIdx = 0): Handler => pathCall(NO_DIRFD, pathIdx, 'write');

const HANDLERS = new Map<string, { name: string; run: Handler }>(([
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
  ['fchdir', fdCall('chdir', (path, _out, cwd) => { cwd.path = path; })],
  ['getdents', fdCall('list', (path, out) => out.list(path))],
  ['getdents64', fdCall('list', (path, out) => out.list(path))],
] as [string, Handler][]).map(([name, run]) => [name, { name, run }]));
