/**
 * What a failed slim image was missing: the paths its traced re-run looked for and did not find
 * that the original image has. Lookups that failed in the original's traced run too are the
 * app's normal searching (a module path tried before the one that exists), not a loss, and paths
 * under the pseudo roots are the kernel's, not the image's.
 */
import type { FsIndex } from '../closure/fs-index.js';
import { isWithin } from '../closure/paths.js';
import { resolve } from '../closure/resolve.js';
import type { PathMiss } from '../trace/trace-summary.js';

export interface MissingPath {
  /** the path as the slim image looked it up, or as the original used it */
  path: string;
  /** where the lookup ends in the original (differs when symlinks are on the way) */
  inOriginal: string;
  syscalls: string[];
  /**
   * How it was found: the slim image looked it up and failed (`slim-lookup`), or the original,
   * traced with the verification probes, used it and the slim image does not have it
   * (`original-use`: lookups the slim image never makes, e.g. Python skips modules its cached
   * directory listing does not show).
   */
  seen: 'slim-lookup' | 'original-use';
}

export interface MissingInput {
  /** ENOENT/ENOTDIR lookups of the slim image's traced re-run */
  slimMissing: readonly PathMiss[];
  /** the same of the original's traced run (the build's trace) */
  originalMissing: readonly PathMiss[];
  /** the original image's filesystem */
  original: FsIndex;
  pseudoRoots?: readonly string[];
}

const PSEUDO = ['/proc', '/sys', '/dev'];

export function pathsMissingFromSlim(input: MissingInput): MissingPath[] {
  const alsoMissing = new Set(input.originalMissing.map((m) => m.path));
  const pseudo = input.pseudoRoots ?? PSEUDO;
  const found = new Map<string, MissingPath>();
  for (const miss of input.slimMissing) {
    if (alsoMissing.has(miss.path) || found.has(miss.path)) continue;
    if (pseudo.some((root) => isWithin(miss.path, root))) continue;
    const resolution = resolve(input.original, miss.path);
    if (resolution.final === undefined) continue;
    found.set(miss.path, { path: miss.path, inOriginal: resolution.final, syscalls: miss.syscalls, seen: 'slim-lookup' });
  }
  return sortByPath([...found.values()]);
}

export interface UnkeptInput {
  /** paths the original used when traced with every probe, verification-only ones included */
  originalUsed: ReadonlyArray<{ path: string; syscalls: string[] }>;
  original: FsIndex;
  /** physical paths the slim image holds */
  kept: ReadonlySet<string>;
  pseudoRoots?: readonly string[];
}

/** Paths the original used that exist in it but not in the slim image (directories excepted: only their entries matter). */
export function pathsUsedButNotKept(input: UnkeptInput): MissingPath[] {
  const pseudo = input.pseudoRoots ?? PSEUDO;
  const found = new Map<string, MissingPath>();
  for (const use of input.originalUsed) {
    if (found.has(use.path) || pseudo.some((root) => isWithin(use.path, root))) continue;
    const resolution = resolve(input.original, use.path);
    if (resolution.final === undefined || resolution.final === '/' || input.kept.has(resolution.final)) continue;
    if (input.original.get(resolution.final)?.type === 'directory') continue;
    found.set(use.path, { path: use.path, inOriginal: resolution.final, syscalls: use.syscalls, seen: 'original-use' });
  }
  return sortByPath([...found.values()]);
}

/** Both sources, one entry per path (the slim image's own lookup wins). */
export function mergeMissing(...lists: MissingPath[][]): MissingPath[] {
  const byPath = new Map<string, MissingPath>();
  for (const list of lists) for (const m of list) if (!byPath.has(m.path)) byPath.set(m.path, m);
  return sortByPath([...byPath.values()]);
}

function sortByPath(list: MissingPath[]): MissingPath[] {
  return list.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A path as one shell word: plain paths as they are, others single-quoted. */
export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** The flags that would keep these paths, in one line a user can paste. */
export function includeFlags(paths: readonly MissingPath[]): string {
  return paths.map((p) => `--include-path ${shellWord(p.path)}`).join(' ');
}
