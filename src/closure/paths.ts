/**
 * Lexical helpers for absolute POSIX paths inside an image. They never look at the filesystem:
 * `..` is folded lexically here, which is only right for paths that contain no symlinks (tar
 * entry names, physical paths). Paths that may cross symlinks go through `resolve` instead.
 */

/** Absolute, no `.`/empty components, `..` folded, no trailing slash; `'/'` for the root. */
export function normalise(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return '/' + out.join('/');
}

/** Components of a path, without empty ones (`'/a//b/'` gives `['a', 'b']`). */
export function components(path: string): string[] {
  return path.split('/').filter((part) => part !== '');
}

/** Parent of a normalised absolute path; the root is its own parent. */
export function dirname(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** `base` joined with `rel`; an absolute `rel` replaces `base`. The result is normalised. */
export function join(base: string, rel: string): string {
  return normalise(rel.startsWith('/') ? rel : `${base}/${rel}`);
}

/** Proper ancestors of a normalised path, root first: `/usr/bin/ls` gives `/`, `/usr`, `/usr/bin`. */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  if (path === '/') return out;
  out.push('/');
  for (let slash = path.indexOf('/', 1); slash !== -1; slash = path.indexOf('/', slash + 1)) {
    out.push(path.slice(0, slash));
  }
  return out;
}

/** True when `path` is `dir` itself or lies under it (both normalised). */
export function isWithin(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(dir + '/');
}
