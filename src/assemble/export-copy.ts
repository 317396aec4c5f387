/**
 * slimify's copy of the image's filesystem: the `docker export` stream, written to one temp file
 * as the index pass reads it, and the offset of each regular file's content in it. Every later
 * read of an image file (the closure's ELF and text reads, the slim layer) is a read of a byte
 * range here: the image is read from the engine once, and no file is fetched on its own.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { readFile, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { type FileByteSource, fileByteSource } from '../closure/byte-source.js';
import { type ElfInfo, readElf } from '../closure/elf-reader.js';
import type { FsEntry, FsIndex } from '../closure/fs-index.js';
import { SlimifyError } from '../errors.js';
import { diskError } from '../util/disk-error.js';
import { MEMORY_DIR } from '../engine/session.js';
import { debug, formatBytes } from '../util/log.js';

/** Where a regular file's content lies: `size` bytes at `start` of `file` (a Buffer when the name is not UTF-8). */
export interface ContentRange {
  file: string | Buffer;
  start: number;
  size: number;
  /** when the bytes are still on their way there: resolves once they are all there */
  ready?: Promise<void>;
}

/**
 * The bytes of the image's files, wherever slimify reads them from: its copy of the export
 * (ExportCopy), the image's filesystem where the engine mounted it (MountedCopy), or the files
 * fetched from inside a container of the image (ContainerCopy).
 */
export abstract class PristineCopy {
  private readonly elves = new Map<string, Promise<ElfInfo | undefined>>();
  private readonly texts = new Map<string, Promise<string | undefined>>();

  constructor(protected readonly index: FsIndex) {}

  /** The content of the regular file at `path` (a hardlink reads as its target); undefined for anything else. */
  range(path: string): ContentRange | undefined {
    const entry = this.fileEntry(path);
    return entry ? this.locate(entry.path, entry.size) : undefined;
  }

  /** The regular file at `path` (a hardlink's target), if it is one. */
  protected fileEntry(path: string): FsEntry | undefined {
    let entry = this.index.get(path);
    if (entry?.type === 'hardlink') entry = this.index.get(entry.linkname!);
    return entry?.type === 'file' ? entry : undefined;
  }

  /** Makes the content of `paths` readable through range(); the copies that hold every file have it already. */
  async prepare(paths: Iterable<string>): Promise<void> {
    void paths;
  }

  /** Random access to the content of the regular file at `path`; undefined for anything else. */
  protected async byteSource(path: string): Promise<FileByteSource | undefined> {
    const range = this.range(path);
    return range ? fileByteSource(range.file, range) : undefined;
  }

  /** Where the content of the regular file `path` (of `size` bytes) lies; undefined when it is not there. */
  protected abstract locate(path: string, size: number): ContentRange | undefined;

  /** Lets go of the bytes once nothing will read them again. */
  abstract remove(): Promise<void>;

  /**
   * What the ELF file at `path` needs to run, read once: the files never change, and a build
   * computes its file set more than once (ahead of the app's exit, then from the final trace;
   * read inside a container, the second would wait behind the kept files on their way).
   */
  readElf(path: string): Promise<ElfInfo | undefined> {
    return once(this.elves, path, () => this.readElfOnce(path));
  }

  private async readElfOnce(path: string): Promise<ElfInfo | undefined> {
    if (!this.fileEntry(path)) return undefined;
    let source: FileByteSource | undefined;
    try {
      source = await this.byteSource(path);
      return source && (await readElf(source));
    } catch (error) {
      debug(`cannot read ${path} as ELF: ${(error as Error).message}`);
      return undefined;
    } finally {
      await source?.close();
    }
  }

  /** The text of the file at `path` (ld.so.conf and the files it includes), read once, as readElf. */
  readText(path: string): Promise<string | undefined> {
    return once(this.texts, path, () => this.readTextOnce(path));
  }

  private async readTextOnce(path: string): Promise<string | undefined> {
    const source = await this.byteSource(path);
    if (!source) return undefined;
    try {
      return (await source.read(0, source.size)).toString('utf8');
    } finally {
      await source.close();
    }
  }
}

/** The value `cache` holds for `key`, made by `make` the first time. */
export function once<K, T>(cache: Map<K, T>, key: K, make: () => T): T {
  let value = cache.get(key);
  if (value === undefined) {
    value = make();
    cache.set(key, value);
  }
  return value;
}

export class ExportCopy extends PristineCopy {
  constructor(
    readonly file: string,
    index: FsIndex,
    /** content offset of each regular file, by path */
    private readonly offsets: ReadonlyMap<string, number>,
  ) {
    super(index);
  }

  protected locate(path: string, size: number): ContentRange | undefined {
    const start = this.offsets.get(path);
    return start === undefined ? undefined : { file: this.file, start, size };
  }

  /**
   * Deletes the copy. Deleting a file of the image's size takes a while on some filesystems
   * (ext4 mounted with discard: 0.1 s for 130 MB here), so a build does it while the slim image
   * is verified instead of at the end.
   */
  remove(): Promise<void> {
    return rm(this.file, { force: true });
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

  /** Writes `chunk` next, or at `position` when given. */
  write(chunk: Buffer, position?: number): void {
    try {
      for (let done = 0; done < chunk.length; ) done += writeSync(this.fd, chunk, done, chunk.length - done, position === undefined ? null : position + done);
    } catch (error) {
      throw diskError(error, this.file, 'copying the image filesystem') ?? error;
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Room a copy of an image of `bytes` takes: the export adds a 512-byte header per entry and pads contents to 512 bytes, so 10% + 64 MB. */
export function copySize(bytes: number): number {
  return Math.ceil(bytes * 1.1) + 64 * 1024 * 1024;
}

/** Fails early, with what to do, when `dir` cannot hold a copy of an image of `bytes`. */
export async function ensureRoom(dir: string, bytes: number): Promise<void> {
  const fs = await statfs(dir);
  const free = fs.bavail * fs.bsize;
  const needed = copySize(bytes);
  if (free < needed) {
    throw new SlimifyError(
      `slimify keeps a copy of the image's filesystem while it works (about ${formatBytes(needed)}), and ${dir} has ${formatBytes(free)} free: free space there, or set TMPDIR to a directory on a disk with more room`,
      { code: 'no-space' },
    );
  }
}

/** The largest copy kept in memory: bigger images go to TMPDIR, so they never hold RAM of their size. */
export const MEMORY_COPY_LIMIT = 512 * 1000 * 1000;

export interface CopyPlaceFacts {
  /** the user set TMPDIR: their choice stands */
  tmpdirSet: boolean;
  /** room the copy needs (copySize) */
  needed: number;
  /** free bytes in MEMORY_DIR, undefined when there is none */
  memoryDirFree?: number;
  /** MemAvailable of /proc/meminfo, undefined when unknown */
  memAvailable?: number;
}

/**
 * Where the copy of the image goes. Written to a disk filesystem, the copy slows the export
 * that feeds it: on this ext4 a 137 MB export took 0.15-0.3 s longer with `docker export > file`
 * than with `> /dev/shm/file`, and the index stage 0.4-0.6 s longer. So a copy of a small image
 * (at most MEMORY_COPY_LIMIT, and an eighth of the available memory) goes to shared memory, unless
 * the user chose a TMPDIR; anything bigger goes to TMPDIR, as before.
 */
export function copyPlace(facts: CopyPlaceFacts): 'memory' | 'tmpdir' {
  const fits =
    facts.memoryDirFree !== undefined &&
    facts.memAvailable !== undefined &&
    facts.needed <= MEMORY_COPY_LIMIT &&
    facts.needed <= facts.memAvailable / 8 &&
    facts.needed <= facts.memoryDirFree;
  return !facts.tmpdirSet && fits ? 'memory' : 'tmpdir';
}

/** copyPlace for this machine: the directory to put the copy of an image of `bytes` in. */
export async function copyDirectory(bytes: number): Promise<string> {
  const memoryDirFree = await statfs(MEMORY_DIR).then(
    (fs) => fs.bavail * fs.bsize,
    () => undefined,
  );
  const meminfo = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const kb = /^MemAvailable:\s+(\d+) kB/m.exec(meminfo)?.[1];
  const place = copyPlace({ tmpdirSet: Boolean(process.env.TMPDIR), needed: copySize(bytes), memoryDirFree, memAvailable: kb ? Number(kb) * 1024 : undefined });
  return place === 'memory' ? MEMORY_DIR : tmpdir();
}
