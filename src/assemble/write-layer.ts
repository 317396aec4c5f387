/**
 * Writes the slim layer from the index of the pristine filesystem: the kept entries in path
 * order (parents before children, hardlinks after their targets), metadata from the index (or
 * the original header where the index cannot hold every byte: xattrs such as file
 * capabilities, device numbers, non-ASCII names), contents from the file spool. The tar is
 * hashed as it is written. Times are clamped to the image's creation time, so the same input
 * gives the same layer digest.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { dirname } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Header } from 'tar-stream';
import { type FsEntry, type FsIndex, compareStrings } from '../closure/fs-index.js';
import { SlimifyError } from '../errors.js';
import { diskError } from '../util/disk-error.js';
import { bytePack, needsPax } from './byte-tar.js';
import { CONTAINER_ONLY } from './pristine-source.js';
import { relativeLatin1 } from './tar-entry.js';

export interface LayerResult {
  /** sha256 of the uncompressed layer tar, "sha256:..." (the image's diff_id) */
  diffId: string;
  /** bytes of the layer tar */
  size: number;
  entries: number;
  /** bytes of regular-file content kept */
  contentBytes: number;
}

export interface LayerSource {
  index: FsIndex;
  headers: ReadonlyMap<string, Header>;
  /** a file on disk holding the content of the image's regular file at `path` */
  content(path: string): Promise<string | undefined>;
}

const TAR_TYPES: Record<FsEntry['type'], Header['type']> = {
  file: 'file',
  directory: 'directory',
  symlink: 'symlink',
  hardlink: 'link',
  char: 'character-device',
  block: 'block-device',
  fifo: 'fifo',
};

const FILE_TYPE_BITS: Record<FsEntry['type'], number> = {
  file: 0o100000,
  directory: 0o040000,
  symlink: 0o120000,
  hardlink: 0o100000,
  char: 0o020000,
  block: 0o060000,
  fifo: 0o010000,
};

/** Extended attributes of the original header, as latin1 byte strings. */
function xattrs(header: Header | undefined): Record<string, string> {
  const pax = (header?.pax ?? {}) as Record<string, string>;
  return Object.fromEntries(Object.entries(pax).filter(([key]) => key.startsWith('SCHILY.xattr.') || key.startsWith('LIBARCHIVE.xattr.')));
}

export function layerHeader(entry: FsEntry, original: Header | undefined, options: { clampMtime: Date; mode?: number }): Header {
  // names and link targets keep the image's own bytes (latin1 strings) when they are not ASCII
  const name = original ? relativeLatin1(original.name) : entry.path.slice(1);
  let linkname: string | undefined;
  if (entry.type === 'hardlink') linkname = original?.linkname ? relativeLatin1(original.linkname) : entry.linkname!.slice(1);
  else if (entry.type === 'symlink') linkname = original?.linkname ?? entry.linkname;
  const mtime = new Date(entry.mtime * 1000);
  const attributes = xattrs(original);
  return {
    name,
    type: TAR_TYPES[entry.type],
    // tar-stream replaces a mode of 0 with its default; the file-type bits keep it non-zero and are masked off when encoded
    mode: (options.mode ?? entry.mode) | FILE_TYPE_BITS[entry.type],
    uid: entry.uid,
    gid: entry.gid,
    size: entry.type === 'file' ? entry.size : 0,
    mtime: mtime > options.clampMtime ? options.clampMtime : mtime,
    linkname: linkname ?? '',
    uname: '',
    gname: '',
    devmajor: original?.devmajor ?? 0,
    devminor: original?.devminor ?? 0,
    pax: Object.keys(attributes).length || needsPax(name) || needsPax(linkname) ? attributes : undefined,
  };
}

export async function writeLayer(
  source: LayerSource,
  keep: Iterable<string>,
  destination: string,
  options: { clampMtime: Date; onProgress?: (bytes: number) => void; /** permission bits that replace an entry's own, by path */ modes?: ReadonlyMap<string, number> },
): Promise<LayerResult> {
  const pack = bytePack();
  const hash = createHash('sha256');
  let size = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const written = pipeline(pack as unknown as Readable, hasher, createWriteStream(destination));
  let entries = 0;
  let contentBytes = 0;

  const paths = [...new Set(keep)].filter((p) => p !== '/' && !CONTAINER_ONLY.has(p)).sort(compareStrings);
  const present = (path: string) => source.index.get(path);
  const kept = new Set(paths);
  // hardlinks last, so their targets are already in the layer; a link whose target is not kept is dropped
  const ordered = [...paths.filter((p) => present(p) && present(p)!.type !== 'hardlink'), ...paths.filter((p) => present(p)?.type === 'hardlink' && kept.has(present(p)!.linkname!))];

  const copy = (async () => {
    try {
      for (const path of ordered) {
        const entry = source.index.get(path)!;
        const header = layerHeader(entry, source.headers.get(path), { clampMtime: options.clampMtime, mode: options.modes?.get(path) });
        entries++;
        const file = entry.type === 'file' ? await source.content(path) : undefined;
        if (entry.type === 'file' && file === undefined) throw new SlimifyError(`cannot read ${path} from the image`, { stage: 'assemble' });
        const sink = pack.entry(header);
        const done = once(sink as unknown as NodeJS.EventEmitter, 'finish');
        if (file !== undefined) {
          let copied = 0;
          for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
            copied += chunk.length;
            if (!sink.write(chunk)) await once(sink as unknown as NodeJS.EventEmitter, 'drain');
          }
          if (copied !== entry.size) throw new SlimifyError(`${path} changed size while it was copied (${copied} bytes, the image says ${entry.size})`, { stage: 'assemble' });
          contentBytes += copied;
          options.onProgress?.(contentBytes);
        }
        (sink as unknown as NodeJS.WritableStream).end();
        await done;
      }
      pack.finalize();
    } catch (error) {
      pack.destroy(error as Error);
      throw error;
    }
  })();
  await Promise.all([copy, written]).catch((error: unknown) => {
    throw diskError(error, dirname(destination), 'writing the slim layer') ?? error;
  });
  return { diffId: `sha256:${hash.digest('hex')}`, size, entries, contentBytes };
}
