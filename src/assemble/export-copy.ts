/**
 * slimify's copy of the image's filesystem: the `docker export` stream, written to one temp file
 * as the index pass reads it, and the offset of each regular file's content in it. Every later
 * read of an image file (the closure's ELF and text reads, the slim layer) is a read of a byte
 * range here: the image is read from the engine once, and no file is fetched on its own.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { rm, statfs } from 'node:fs/promises';
import { type FileByteSource, fileByteSource } from '../closure/byte-source.js';
import { type ElfInfo, readElf } from '../closure/elf-reader.js';
import type { FsIndex } from '../closure/fs-index.js';
import { SlimifyError } from '../errors.js';
import { diskError } from '../util/disk-error.js';
import { debug, formatBytes } from '../util/log.js';

/** Where a regular file's content lies: `size` bytes at `start` of `file`. */
export interface ContentRange {
  file: string;
  start: number;
  size: number;
}

export class ExportCopy {
  constructor(
    readonly file: string,
    private readonly index: FsIndex,
    /** content offset of each regular file, by path */
    private readonly offsets: ReadonlyMap<string, number>,
  ) {}

  /** The content of the regular file at `path` (a hardlink reads as its target); undefined for anything else. */
  range(path: string): ContentRange | undefined {
    let entry = this.index.get(path);
    if (entry?.type === 'hardlink') entry = this.index.get(entry.linkname!);
    const start = entry?.type === 'file' ? this.offsets.get(entry.path) : undefined;
    return start === undefined ? undefined : { file: this.file, start, size: entry!.size };
  }

  /**
   * Deletes the copy once nothing will read it again. Deleting a file of the image's size takes a
   * while on some filesystems (ext4 mounted with discard: 0.1 s for 130 MB here), so a build
   * does it while the slim image is verified instead of at the end.
   */
  remove(): Promise<void> {
    return rm(this.file, { force: true });
  }

  async readElf(path: string): Promise<ElfInfo | undefined> {
    const range = this.range(path);
    if (!range) return undefined;
    let source: FileByteSource | undefined;
    try {
      source = await fileByteSource(range.file, range);
      return await readElf(source);
    } catch (error) {
      debug(`cannot read ${path} as ELF: ${(error as Error).message}`);
      return undefined;
    } finally {
      await source?.close();
    }
  }

  async readText(path: string): Promise<string | undefined> {
    const range = this.range(path);
    if (!range) return undefined;
    const source = await fileByteSource(range.file, range);
    try {
      return (await source.read(0, range.size)).toString('utf8');
    } finally {
      await source.close();
    }
  }
}

/**
 * Writes the export stream to `file` chunk by chunk, in order. Synchronous writes: each is a
 * copy into the page cache of at most one chunk (tens of kB), and they keep the offsets of the
 * copy equal to the offsets of the stream without any bookkeeping.
 */
export class ExportWriter {
  private readonly fd: number;

  constructor(private readonly file: string) {
    this.fd = openSync(file, 'w');
  }

  write(chunk: Buffer): void {
    try {
      for (let done = 0; done < chunk.length; ) done += writeSync(this.fd, chunk, done);
    } catch (error) {
      throw diskError(error, this.file, 'copying the image filesystem') ?? error;
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Fails early, with what to do, when `dir` cannot hold a copy of an image of `bytes`. */
export async function ensureRoom(dir: string, bytes: number): Promise<void> {
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  // the export adds a 512-byte header per entry and pads contents to 512 bytes: allow 10% + 64 MB
  const needed = Math.ceil(bytes * 1.1) + 64 * 1024 * 1024;
  if (free < needed) {
    throw new SlimifyError(
      `slimify keeps a copy of the image's filesystem while it works (about ${formatBytes(needed)}), and ${dir} has ${formatBytes(free)} free: free space there, or set TMPDIR to a directory on a disk with more room`,
      { code: 'no-space' },
    );
  }
}
