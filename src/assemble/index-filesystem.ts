/**
 * One streaming pass over the image's pristine filesystem (`docker export`): every entry's
 * metadata goes into an FsIndex, and the first bytes of each regular file tell ELF files and
 * `#!` scripts apart. File contents are read and dropped; memory grows with the number of
 * entries, not with their size.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { SHEBANG_BUFFER_SIZE, sniffContent } from '../closure/file-kind.js';
import { FsIndex } from '../closure/fs-index.js';
import { CONTAINER_ONLY } from './pristine-source.js';
import { byteExtract } from './byte-tar.js';
import { entryType, escapesRoot, hardlinkEscapes, toFsEntry } from './tar-entry.js';

export interface IndexResult {
  index: FsIndex;
  /** bytes of regular-file content in the image */
  bytes: number;
  files: number;
  /** entries refused because their names (or hardlink targets) escape the root */
  refused: string[];
}

export async function indexFilesystem(stream: Readable, onProgress?: (bytes: number, entries: number) => void): Promise<IndexResult> {
  const index = new FsIndex();
  const refused: string[] = [];
  let bytes = 0;
  let files = 0;
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
        for await (const chunk of entry as AsyncIterable<Buffer>) {
          if (head === undefined) head = chunk.subarray(0, SHEBANG_BUFFER_SIZE);
          else if (head.length < SHEBANG_BUFFER_SIZE) head = Buffer.concat([head, chunk.subarray(0, SHEBANG_BUFFER_SIZE - head.length)]);
          bytes += chunk.length;
        }
        const sniffed = sniffContent(head ?? Buffer.alloc(0));
        fsEntry.kind = sniffed.kind;
        if (sniffed.shebang !== undefined) fsEntry.shebang = sniffed.shebang;
        onProgress?.(bytes, index.size);
      } else {
        entry.resume();
      }
      index.add(fsEntry);
    }
  })();
  await Promise.all([pipeline(stream, extract as unknown as NodeJS.WritableStream), walk]);
  return { index, bytes, files, refused };
}
