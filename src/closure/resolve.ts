import type { FsIndex } from './fs-index.js';
import { components, dirname } from './paths.js';

/** The kernel's limit on symlinks followed in one lookup (MAXSYMLINKS). */
export const MAX_SYMLINKS = 40;

export interface ResolveOptions {
  /** Follow a symlink in the last component (stat semantics, the default) or not (lstat). */
  followLast?: boolean;
}

export interface Resolution {
  /** The physical path the lookup ends at; undefined when it does not exist in the index. */
  final: string | undefined;
  /** Every symlink traversed, in order, as physical paths. */
  symlinks: string[];
  /** Every directory walked through (physical paths, in order, root excluded). */
  visited: string[];
  /** Why the lookup failed, when it did. */
  error?: 'ENOENT' | 'ENOTDIR' | 'ELOOP';
}

/**
 * Looks `path` up in the index component by component the way the kernel does: symlinks are
 * followed wherever they appear (relative targets against the link's directory, absolute ones
 * against the root), and `..` goes to the physical parent of where the walk is, so `/bin/..`
 * with `/bin -> usr/bin` is `/usr`. The root always exists, even when the index has no entry
 * for it. Relative paths are taken from the root.
 */
export function resolve(index: FsIndex, path: string, options: ResolveOptions = {}): Resolution {
  const followLast = options.followLast ?? true;
  const symlinks: string[] = [];
  const visited: string[] = [];
  // Components still to walk, the next one last; a symlink pushes its target's components.
  const pending = components(path).reverse();
  let current = '/';
  let followed = 0;

  while (pending.length > 0) {
    const part = pending.pop()!;
    if (part === '.') continue;
    if (part === '..') {
      current = dirname(current);
      continue;
    }
    const next = current === '/' ? `/${part}` : `${current}/${part}`;
    const entry = index.get(next);
    if (entry === undefined) return { final: undefined, symlinks, visited, error: 'ENOENT' };
    const isLast = pending.length === 0;
    if (entry.type === 'symlink' && (followLast || !isLast)) {
      followed += 1;
      if (followed > MAX_SYMLINKS) return { final: undefined, symlinks, visited, error: 'ELOOP' };
      symlinks.push(next);
      const target = entry.linkname ?? '';
      if (target === '') return { final: undefined, symlinks, visited, error: 'ENOENT' };
      if (target.startsWith('/')) current = '/';
      for (const targetPart of components(target).reverse()) pending.push(targetPart);
      continue;
    }
    if (isLast) return { final: next, symlinks, visited };
    if (entry.type !== 'directory') return { final: undefined, symlinks, visited, error: 'ENOTDIR' };
    visited.push(next);
    current = next;
  }
  return { final: current, symlinks, visited };
}
