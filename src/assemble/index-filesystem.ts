/**
 * One streaming pass over the image's pristine filesystem (`docker export`): every entry's
 * metadata goes into an FsIndex, the first bytes of each regular file tell ELF files and `#!`
 * scripts apart, and the files the spool wants are copied to disk on the way. Other contents
 * are read and dropped; memory grows with the number of entries, not with their size.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Header } from 'tar-stream';
import { SHEBANG_BUFFER_SIZE, sniffContent } from '../closure/file-kind.js';
import { FsIndex } from '../closure/fs-index.js';
import { CONTAINER_ONLY } from './pristine-source.js';
import { byteExtract, needsPax } from './byte-tar.js';
import type { FileSpool } from './file-spool.js';
import { entryType, escapesRoot, hardlinkEscapes, toFsEntry } from './tar-entry.js';

export interface IndexResult {
  index: FsIndex;
  /**
   * The original tar headers of the few entries an FsEntry cannot describe byte for byte:
   * extended attributes (file capabilities), device numbers, names that are not ASCII.
   */
  headers: Map<string, Header>;
  /** bytes of regular-file content in the image */
  bytes: number;
  files: number;
  /** bytes copied into the spool */
  spooledBytes: number;
  /** entries refused because their names (or hardlink targets) escape the root */
  refused: string[];
}

function needsHeader(header: Header): boolean {
  return Boolean(header.pax && Object.keys(header.pax as object).some((k) => k.includes('xattr.'))) || header.type === 'character-device' || header.type === 'block-device' || needsPax(header.name) || needsPax(header.linkname);
}

export async function indexFilesystem(stream: Readable, options: { spool?: FileSpool; onProgress?: (bytes: number, entries: number) => void } = {}): Promise<IndexResult> {
  const index = new FsIndex();
  const headers = new Map<string, Header>();
  const refused: string[] = [];
  let bytes = 0;
  let files = 0;
  let spooledBytes = 0;
  const extract = byteExtract();
  const walk = (async () => {
    for await (const entry of extract) {
      const header = entry.header;
      const type = entryType(header);
      if (!type || escapesRoot(header.name) || hardlinkEscapes(header)) {
        if (type) refused.push(header.name);
        entry.resume();
        continue;
      }
      const fsEntry = toFsEntry(header, type);
      if (CONTAINER_ONLY.has(fsEntry.path)) {
        entry.resume();
        continue;
      }
      if (type === 'file') {
        files++;
        let head: Buffer | undefined;
        const sniff = (chunk: Buffer) => {
          if (head === undefined) head = chunk.subarray(0, SHEBANG_BUFFER_SIZE);
          else if (head.length < SHEBANG_BUFFER_SIZE) head = Buffer.concat([head, chunk.subarray(0, SHEBANG_BUFFER_SIZE - head.length)]);
          bytes += chunk.length;
        };
        if (options.spool?.wants(fsEntry.path)) {
          await options.spool.write(fsEntry.path, entry as AsyncIterable<Buffer>, sniff);
          spooledBytes += fsEntry.size;
        } else {
          for await (const chunk of entry as AsyncIterable<Buffer>) sniff(chunk);
        }
        const sniffed = sniffContent(head ?? Buffer.alloc(0));
        fsEntry.kind = sniffed.kind;
        if (sniffed.shebang !== undefined) fsEntry.shebang = sniffed.shebang;
        options.onProgress?.(bytes, index.size);
      } else {
        entry.resume();
      }
      if (needsHeader(header)) headers.set(fsEntry.path, { ...header });
      index.add(fsEntry);
    }
  })();
  await Promise.all([pipeline(stream, extract as unknown as NodeJS.WritableStream), walk]).catch((error: unknown) => {
    stream.destroy();
    throw error;
  });
  return { index, headers, bytes, files, spooledBytes, refused };
}
