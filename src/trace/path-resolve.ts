/**
 * Lexical path arithmetic for traced paths.
 *
 * Relative paths are joined to the dirfd's -y path or the process's cwd, then normalised
 * lexically: `.` and empty segments dropped, `..` pops the previous segment. That is exact
 * for `.` and `//`, but not for `..`: the kernel resolves `a/link/..` to the parent of the
 * link's *target*. The bases themselves are safe (-y paths are already resolved by the
 * kernel); only `..` inside the traced argument can be wrong. So whenever the joined path
 * has a `..` segment, the un-normalised join is kept as `raw` for the closure stage, which
 * knows the image's symlinks and can resolve it properly.
 */
import { normalise } from '../closure/paths.js';

export interface ResolvedPath {
  /** Absolute, lexically normalised. */
  path: string;
  /** The joined path before normalisation, present only when it contains a `..` segment. */
  raw?: string;
}

/** Make `p` absolute against `base` (itself absolute) and normalise it. */
export function resolvePath(base: string, p: string): ResolvedPath {
  let joined: string;
  if (p.charCodeAt(0) === 0x2f) joined = p;
  else if (base === '/') joined = '/' + p;
  else joined = base + '/' + p;
  if (!needsNormalising(joined)) return { path: joined };
  const path = normalizeAbsolute(joined);
  return hasDotDot(joined) ? { path, raw: joined } : { path };
}

/** Lexically normalise an absolute path (`/a//b/./c/../d/` -> `/a/b/d`). */
export function normalizeAbsolute(p: string): string {
  return needsNormalising(p) ? normalise(p) : p;
}

/** True when `path` is `root` or below it (`/proc`, `/proc/1/maps`; not `/procfs`). */
export function isAtOrUnder(path: string, root: string): boolean {
  return path.startsWith(root) && (path.length === root.length || path.charCodeAt(root.length) === 0x2f);
}

/** Whether `p` has empty, `.` or `..` segments or a trailing slash (found with indexOf: hot). */
function needsNormalising(p: string): boolean {
  const n = p.length;
  if (n === 0 || p.charCodeAt(0) !== 0x2f) return true;
  if (n > 1 && p.charCodeAt(n - 1) === 0x2f) return true;
  if (p.indexOf('//') >= 0) return true;
  for (let i = p.indexOf('/.'); i >= 0; i = p.indexOf('/.', i + 2)) {
    const b = p.charCodeAt(i + 2);
    if (Number.isNaN(b) || b === 0x2f) return true;
    if (b === 0x2e) {
      const c = p.charCodeAt(i + 3);
      if (Number.isNaN(c) || c === 0x2f) return true;
    }
  }
  return false;
}

function hasDotDot(p: string): boolean {
  let from = 0;
  for (;;) {
    const i = p.indexOf('..', from);
    if (i < 0) return false;
    const before = i === 0 ? 0x2f : p.charCodeAt(i - 1);
    const after = i + 2 >= p.length ? 0x2f : p.charCodeAt(i + 2);
    if (before === 0x2f && after === 0x2f) return true;
    from = i + 1;
  }
}
