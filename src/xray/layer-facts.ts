/**
 * What one layer tarball says about the filesystem: its entries (with a content hash for regular
 * files) and its whiteouts. The layer is read as a stream; only the metadata stays in memory.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface LayerEntry {
  /** Absolute, normalised path ("/usr/bin/env"). */
  path: string;
  kind: EntryKind;
  /** Size in the tar header (0 for directories, links and devices). */
  size: number;
  /** sha256 of the content, regular files only. */
  sha256?: string;
  linkname?: string;
}

export interface Whiteout {
  /** The path the whiteout hides ("/tmp/big" for "tmp/.wh.big"). */
  path: string;
  /** An opaque marker (".wh..wh..opq"): hides everything lower layers had under `path`. */
  opaque: boolean;
}

export interface LayerFacts {
  entries: LayerEntry[];
  whiteouts: Whiteout[];
  /** Sum of the header sizes of all entries: what dive calls the layer's size. */
  contentBytes: number;
}

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

export function normalisePath(name: string): string {
  const clean = posix.normalize(`/${name}`);
  return clean.length > 1 && clean.endsWith('/') ? clean.slice(0, -1) : clean;
}

function kindOf(type: tar.Header['type'] | undefined): EntryKind {
  switch (type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'dir';
    case 'symlink':
      return 'symlink';
    case 'link':
      return 'hardlink';
    default:
      return 'other';
  }
}

/** Classifies one tar header: an entry, a whiteout, or nothing (the root itself). */
export function classifyHeader(header: Pick<tar.Header, 'name' | 'type' | 'size' | 'linkname'>): { entry?: LayerEntry; whiteout?: Whiteout } {
  const path = normalisePath(header.name);
  if (path === '/') return {};
  const base = posix.basename(path);
  const dir = posix.dirname(path);
  if (base === OPAQUE) return { whiteout: { path: dir, opaque: true } };
  if (base.startsWith(WHITEOUT)) return { whiteout: { path: posix.join(dir, base.slice(WHITEOUT.length)), opaque: false } };
  const kind = kindOf(header.type);
  const entry: LayerEntry = { path, kind, size: kind === 'file' ? (header.size ?? 0) : 0 };
  if (header.linkname) entry.linkname = kind === 'hardlink' ? normalisePath(header.linkname) : header.linkname;
  return { entry };
}

/** Reads an uncompressed layer tar stream to the end, hashing regular files as they pass. */
export async function scanLayer(stream: Readable): Promise<LayerFacts> {
  const extract = tar.extract();
  const facts: LayerFacts = { entries: [], whiteouts: [], contentBytes: 0 };
  const reading = (async () => {
    for await (const item of extract) {
      const { entry, whiteout } = classifyHeader(item.header);
      facts.contentBytes += item.header.size ?? 0;
      if (whiteout) facts.whiteouts.push(whiteout);
      if (entry?.kind === 'file') {
        const hash = createHash('sha256');
        for await (const chunk of item) hash.update(chunk as Buffer);
        entry.sha256 = hash.digest('hex');
      } else {
        item.resume();
      }
      if (entry) facts.entries.push(entry);
    }
  })();
  await Promise.all([pipeline(stream, extract), reading]);
  return facts;
}
