/**
 * One streaming pass over the image's pristine filesystem (`docker export`): every entry's
 * metadata goes into an FsIndex, the first bytes of each regular file tell ELF files and `#!`
 * scripts apart, and, when asked, the stream is copied to disk with the offset of each file's
 * content (see export-copy.ts). Memory grows with the number of entries, not with their size.
 */
import type { Readable } from 'node:stream';
import type { Header } from 'tar-stream';
import { SHEBANG_BUFFER_SIZE, sniffContent } from '../closure/file-kind.js';
import { type FsEntry, FsIndex } from '../closure/fs-index.js';
import { ExportWriter } from './export-copy.js';
import { needsPax } from './tar-header.js';
import { TarScanner } from './tar-scanner.js';
import { entryType, escapesRoot, hardlinkEscapes, toFsEntry } from './tar-entry.js';

/** Files docker adds to every container (its init layer); they are not part of the image. */
export const CONTAINER_ONLY = new Set(['/.dockerenv']);

/** What either way of reading an image's filesystem gives (the export here, or mounted-filesystem.ts). */
export interface FilesystemIndex {
  index: FsIndex;
  /**
   * The original tar headers of the few entries an FsEntry cannot describe byte for byte:
   * extended attributes (file capabilities), device numbers, names that are not ASCII.
   */
  headers: Map<string, Header>;
  /** bytes of regular-file content in the image */
  bytes: number;
  files: number;
}

export interface IndexResult extends FilesystemIndex {
  /** where each regular file's content starts in the stream (and in its copy) */
  offsets: Map<string, number>;
  /** bytes of the whole stream */
  streamBytes: number;
  /** entries refused because their names (or hardlink targets) escape the root */
  refused: string[];
}

function needsHeader(header: Header): boolean {
  return Boolean(header.pax && Object.keys(header.pax as object).some((k) => k.includes('xattr.'))) || header.type === 'character-device' || header.type === 'block-device' || needsPax(header.name) || needsPax(header.linkname);
}

export async function indexFilesystem(stream: Readable, options: { copyTo?: string; onProgress?: (bytes: number, entries: number) => void } = {}): Promise<IndexResult> {
  const index = new FsIndex();
  const headers = new Map<string, Header>();
  const offsets = new Map<string, number>();
  const refused: string[] = [];
  let bytes = 0;
  let files = 0;
  // the regular file whose first bytes are still being collected for sniffContent; it joins the
  // index once they are (the index keeps a copy of each entry)
  let sniffing: { entry: FsEntry; head: Buffer[]; length: number } | undefined;
  const sniffed = () => {
    if (!sniffing) return;
    const { entry, head, length } = sniffing;
    sniffing = undefined;
    const found = sniffContent(Buffer.concat(head, Math.min(length, SHEBANG_BUFFER_SIZE)));
    entry.kind = found.kind;
    if (found.shebang !== undefined) entry.shebang = found.shebang;
    index.add(entry);
  };
  const scanner = new TarScanner({
    entry(header, dataOffset) {
      sniffed();
      const type = entryType(header);
      if (!type || escapesRoot(header.name) || hardlinkEscapes(header)) {
        if (type) refused.push(header.name);
        return;
      }
      const fsEntry = toFsEntry(header, type);
      if (CONTAINER_ONLY.has(fsEntry.path)) return;
      if (type === 'file') {
        files++;
        bytes += fsEntry.size;
        offsets.set(fsEntry.path, dataOffset);
        options.onProgress?.(bytes, index.size);
      }
      if (needsHeader(header)) headers.set(fsEntry.path, { ...header });
      if (type !== 'file') {
        index.add(fsEntry);
        return;
      }
      sniffing = { entry: fsEntry, head: [], length: 0 };
      if (fsEntry.size === 0) sniffed();
    },
    data(chunk) {
      if (!sniffing) return;
      sniffing.head.push(Buffer.from(chunk.subarray(0, SHEBANG_BUFFER_SIZE - sniffing.length)));
      sniffing.length += Math.min(chunk.length, SHEBANG_BUFFER_SIZE - sniffing.length);
      if (sniffing.length >= SHEBANG_BUFFER_SIZE || sniffing.length >= sniffing.entry.size) sniffed();
    },
  });
  let copy: ExportWriter | undefined;
  try {
    // inside the try: when the copy cannot be opened (a disposal removed its dir) the stream must
    // still be destroyed, or its open connection to the engine keeps the process alive
    copy = options.copyTo ? new ExportWriter(options.copyTo) : undefined;
    // 'data' events, not async iteration: the iterator's read() joins the chunks that arrived
    // since the last one into a new buffer (a copy of the whole export)
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        try {
          copy?.write(chunk);
          scanner.write(chunk);
        } catch (error) {
          stream.off('data', onData);
          reject(error);
        }
      };
      stream.on('data', onData);
      stream.once('end', resolve);
      stream.once('error', reject);
    });
    scanner.end();
    sniffed();
  } catch (error) {
    stream.destroy();
    throw error;
  } finally {
    copy?.close();
  }
  return { index, headers, offsets, bytes, files, streamBytes: scanner.position, refused };
}
