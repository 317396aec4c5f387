/**
 * Writes the slim layer: a second streaming pass over the pristine filesystem that copies the
 * kept entries (metadata, xattrs and content as they are) into one tar, hashed as it is written.
 * Times are clamped to the image's creation time, so the same input gives the same layer digest
 * (docker's own container files carry the time the container was created).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Header } from 'tar-stream';
import { dirname } from 'node:path';
import { diskError } from '../util/disk-error.js';
import { byteExtract, bytePack, needsPax } from './byte-tar.js';
import { CONTAINER_ONLY } from './pristine-source.js';
import { absolutePath, entryType, escapesRoot, hardlinkEscapes, relativeLatin1 } from './tar-entry.js';

export interface LayerResult {
  /** sha256 of the uncompressed layer tar, "sha256:..." (the image's diff_id) */
  diffId: string;
  /** bytes of the layer tar */
  size: number;
  entries: number;
  /** bytes of regular-file content kept */
  contentBytes: number;
}

/**
 * Extended attributes carried over from the source (file capabilities are `security.capability`),
 * as latin1 byte strings; an empty set still forces a PAX header when the name or link target
 * has bytes a plain header would mangle.
 */
function paxRecords(header: Header, name: string, linkname: string | null | undefined): Record<string, string> | undefined {
  const pax = (header.pax ?? {}) as Record<string, string>;
  const kept = Object.entries(pax).filter(([key]) => key.startsWith('SCHILY.xattr.') || key.startsWith('LIBARCHIVE.xattr.'));
  return kept.length || needsPax(name) || needsPax(linkname) ? Object.fromEntries(kept) : undefined;
}

export async function writeLayer(
  source: Readable,
  keep: ReadonlySet<string>,
  destination: string,
  options: { clampMtime: Date; onProgress?: (bytes: number) => void; /** permission bits that replace an entry's own, by path */ modes?: ReadonlyMap<string, number> },
): Promise<LayerResult> {
  const extract = byteExtract();
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

  const copy = (async () => {
    try {
      for await (const entry of extract) {
        const header = entry.header;
        const type = entryType(header);
        const path = type && !escapesRoot(header.name) && !hardlinkEscapes(header) ? absolutePath(header.name) : undefined;
        if (!path || path === '/' || !keep.has(path) || CONTAINER_ONLY.has(path)) {
          entry.resume();
          continue;
        }
        // names and link targets keep the image's own bytes (latin1 strings), whatever their encoding
        const name = relativeLatin1(header.name);
        const linkname = header.type === 'link' ? relativeLatin1(header.linkname!) : header.linkname;
        const out: Header = {
          ...header,
          name,
          linkname,
          mtime: header.mtime > options.clampMtime ? options.clampMtime : header.mtime,
          mode: options.modes?.get(path) ?? header.mode,
          pax: paxRecords(header, name, linkname),
        };
        entries++;
        const sink = pack.entry(out);
        if (header.type === 'file' || header.type === 'contiguous-file') {
          for await (const chunk of entry as AsyncIterable<Buffer>) {
            contentBytes += chunk.length;
            if (!sink.write(chunk)) await once(sink as unknown as NodeJS.EventEmitter, 'drain');
          }
          options.onProgress?.(contentBytes);
        } else {
          entry.resume();
        }
        (sink as unknown as NodeJS.WritableStream).end();
        await once(sink as unknown as NodeJS.EventEmitter, 'finish');
      }
      pack.finalize();
    } catch (error) {
      pack.destroy(error as Error);
      throw error;
    }
  })();
  await Promise.all([pipeline(source, extract as unknown as NodeJS.WritableStream), copy, written]).catch((error: unknown) => {
    source.destroy();
    throw diskError(error, dirname(destination), 'writing the slim layer') ?? error;
  });
  return { diffId: `sha256:${hash.digest('hex')}`, size, entries, contentBytes };
}
