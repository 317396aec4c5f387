import { dirname, normalise } from './paths.js';

export type FsEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';
export type FsContentKind = 'elf' | 'script' | 'other';

/** Metadata of one entry of an image's pristine filesystem (one tar header, plus a content sniff). */
export interface FsEntry {
  /** Absolute, normalised, no trailing slash; `'/'` for the root. */
  path: string;
  type: FsEntryType;
  /** Permission bits including setuid, setgid and sticky. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Symlink: the target as stored. Hardlink: the target path, normalised absolute. */
  linkname?: string;
  /** From the first bytes of regular files (see `sniffContent`). */
  kind?: FsContentKind;
  /** The raw `#!` line without `#!`, when `kind === 'script'`. */
  shebang?: string;
}

/**
 * Every entry of an image's filesystem, by path. Built once by the tar walk (`add`), then read.
 * Entries are stored as given (after normalising paths) with absent optional fields left out,
 * and the parent-to-children map is only built when `children` is first called.
 */
export class FsIndex {
  readonly #entries = new Map<string, FsEntry>();
  #children: Map<string, string[]> | undefined;

  /** Adds or replaces an entry (a later tar entry for the same path wins, as on extraction). */
  add(entry: FsEntry): void {
    const path = normalise(entry.path);
    const stored: FsEntry = {
      path,
      type: entry.type,
      mode: entry.mode,
      uid: entry.uid,
      gid: entry.gid,
      size: entry.size,
      mtime: entry.mtime,
    };
    if (entry.linkname !== undefined) {
      stored.linkname = entry.type === 'hardlink' ? normalise(entry.linkname) : entry.linkname;
    }
    if (entry.kind !== undefined) stored.kind = entry.kind;
    if (entry.shebang !== undefined) stored.shebang = entry.shebang;
    this.#entries.set(path, stored);
    this.#children = undefined;
  }

  get(path: string): FsEntry | undefined {
    return this.#entries.get(path);
  }

  has(path: string): boolean {
    return this.#entries.has(path);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** All entries, in insertion order. */
  entries(): IterableIterator<FsEntry> {
    return this.#entries.values();
  }

  /** Paths of the direct children of `dir` (normalised), sorted. */
  children(dir: string): readonly string[] {
    if (this.#children === undefined) this.#children = this.#buildChildren();
    return this.#children.get(dir) ?? [];
  }

  #buildChildren(): Map<string, string[]> {
    const map = new Map<string, string[]>();
    for (const path of this.#entries.keys()) {
      if (path === '/') continue;
      const parent = dirname(path);
      const list = map.get(parent);
      if (list === undefined) map.set(parent, [path]);
      else list.push(path);
    }
    for (const list of map.values()) list.sort(compareStrings);
    return map;
  }
}

/** Code-unit order, the same on every machine and locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
