/**
 * The pure part of `slimify compare`: two filesystem indexes and two configs in, what differs
 * out. Sizes count regular-file content; a hardlink counts once (as its target).
 */
import { compareStrings, type FsIndex } from '../closure/fs-index.js';
import { components } from '../closure/paths.js';
import type { ImageConfig } from '../engine/engine.js';

export interface DirectoryDiff {
  directory: string;
  bytesA: number;
  bytesB: number;
  /** bytesA - bytesB */
  difference: number;
}

export interface FilesystemDiff {
  regularFiles: { a: number; b: number };
  contentBytes: { a: number; b: number };
  /** the directories (at most `depth` levels deep) whose file bytes differ most, largest difference first */
  directories: DirectoryDiff[];
  /** regular files and symlinks only in A / only in B, with their sizes; first `limit` by size, and totals */
  onlyInA: { count: number; bytes: number; largest: Array<{ path: string; bytes: number }> };
  onlyInB: { count: number; bytes: number; largest: Array<{ path: string; bytes: number }> };
}

export interface ConfigDifference {
  field: string;
  a: unknown;
  b: unknown;
}

function directoryOf(path: string, depth: number): string {
  const parts = components(path).slice(0, -1).slice(0, depth);
  return `/${parts.join('/')}`;
}

function bytesByDirectory(index: FsIndex, depth: number): Map<string, number> {
  const totals = new Map<string, number>();
  for (const entry of index.entries()) {
    if (entry.type !== 'file') continue;
    const dir = directoryOf(entry.path, depth);
    totals.set(dir, (totals.get(dir) ?? 0) + entry.size);
  }
  return totals;
}

function countFiles(index: FsIndex): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of index.entries()) {
    if (entry.type !== 'file') continue;
    files++;
    bytes += entry.size;
  }
  return { files, bytes };
}

function onlyIn(mine: FsIndex, other: FsIndex, limit: number): FilesystemDiff['onlyInA'] {
  const all: Array<{ path: string; bytes: number }> = [];
  let bytes = 0;
  for (const entry of mine.entries()) {
    if (entry.type !== 'file' && entry.type !== 'symlink') continue;
    if (other.has(entry.path)) continue;
    const size = entry.type === 'file' ? entry.size : 0;
    all.push({ path: entry.path, bytes: size });
    bytes += size;
  }
  all.sort((x, y) => y.bytes - x.bytes || compareStrings(x.path, y.path));
  return { count: all.length, bytes, largest: all.slice(0, limit) };
}

export function diffFilesystems(a: FsIndex, b: FsIndex, options: { top: number; depth?: number }): FilesystemDiff {
  const depth = options.depth ?? 3;
  const dirsA = bytesByDirectory(a, depth);
  const dirsB = bytesByDirectory(b, depth);
  const directories: DirectoryDiff[] = [];
  for (const directory of new Set([...dirsA.keys(), ...dirsB.keys()])) {
    const bytesA = dirsA.get(directory) ?? 0;
    const bytesB = dirsB.get(directory) ?? 0;
    if (bytesA !== bytesB) directories.push({ directory, bytesA, bytesB, difference: bytesA - bytesB });
  }
  directories.sort((x, y) => Math.abs(y.difference) - Math.abs(x.difference) || compareStrings(x.directory, y.directory));
  const countA = countFiles(a);
  const countB = countFiles(b);
  return {
    regularFiles: { a: countA.files, b: countB.files },
    contentBytes: { a: countA.bytes, b: countB.bytes },
    directories: directories.slice(0, options.top),
    onlyInA: onlyIn(a, b, options.top),
    onlyInB: onlyIn(b, a, options.top),
  };
}

/** Env and Labels are compared entry by entry; Image is the build cache's parent id, not configuration. */
const NOT_CONFIG = new Set(['Env', 'Labels', 'Image']);

/** Config fields that differ; Env and Labels entry by entry (`Env.PATH`, `Labels.maintainer`). */
export function diffConfigs(a: ImageConfig, b: ImageConfig): ConfigDifference[] {
  const out: ConfigDifference[] = [];
  const envMap = (env: string[] | null | undefined) => new Map((env ?? []).map((e) => [e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const keyed = (field: string, x: Map<string, string>, y: Map<string, string>) => {
    for (const key of [...new Set([...x.keys(), ...y.keys()])].sort(compareStrings)) {
      if (x.get(key) !== y.get(key)) out.push({ field: `${field}.${key}`, a: x.get(key) ?? null, b: y.get(key) ?? null });
    }
  };
  const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((f) => !NOT_CONFIG.has(f)).sort(compareStrings);
  for (const field of fields) {
    const x = normaliseEmpty(a[field]);
    const y = normaliseEmpty(b[field]);
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push({ field, a: x, b: y });
  }
  keyed('Env', envMap(a.Env), envMap(b.Env));
  keyed('Labels', new Map(Object.entries(a.Labels ?? {})), new Map(Object.entries(b.Labels ?? {})));
  return out;
}

/** The engine reports absent fields as null, "", [] or {} depending on how the image was made. */
function normaliseEmpty(value: unknown): unknown {
  if (value === undefined || value === null || value === '') return null;
  if (Array.isArray(value) && value.length === 0) return null;
  if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value as object).length === 0) return null;
  return value;
}
