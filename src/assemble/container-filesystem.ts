/**
 * The image's pristine filesystem read from inside a container of the image, for a build that
 * cannot read it where the engine mounts it (slimify not root, a remote engine). The holder
 * container of mounted-filesystem.ts runs slimify's init `--serve` through `docker exec`: it walks
 * the container's root as `--walk` walks a mounted one and sends the listing, then sends the
 * bytes slimify asks for: ranges of files for the closure, the kept files whole. So the build
 * reads a few hundred kB of metadata and the files it keeps, where `docker export` makes the
 * engine tar, and slimify read and copy, every byte of the image (nginx: 137 MB for 10 MB kept).
 *
 * Inside the container the engine has mounted its own files over the image's. /etc/hosts,
 * /etc/hostname and /etc/resolv.conf are listed as the engine's init layer holds them (empty
 * files), which is what the export of a container that never ran gives. What is under /dev, /proc
 * and /sys is not walked (other filesystems are not entered), and those three directories, and the
 * top directory of each of the image's volumes, come with the mode and times of what is mounted
 * there, not the image's. A slim image holds none of them unless asked to (--include).
 */
import { rm } from 'node:fs/promises';
import type { FsEntry, FsIndex } from '../closure/fs-index.js';
import type { ExecSession, MountSource } from '../engine/container.js';
import type { ImageInfo } from '../engine/engine.js';
import type { Session } from '../engine/session.js';
import { SENSOR_DIR } from '../sensor/bundle.js';
import type { FileByteSource } from '../closure/byte-source.js';
import { type ContentRange, ExportWriter, PristineCopy, once } from './export-copy.js';
import { holderContainer, indexWalk } from './mounted-filesystem.js';
import type { PristineFilesystem } from './pristine-source.js';

/** Files the engine mounts into every container over the image's; its init layer holds them empty (root's, mode 755). */
const ENGINE_FILES = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf']);

function asInitLayerHolds(entry: FsEntry): void {
  if (entry.type === 'file' && ENGINE_FILES.has(entry.path)) Object.assign(entry, { size: 0, mode: 0o755, uid: 0, gid: 0 });
}

/** Reads the image's filesystem from inside a holder container; kept files are copied into `copyFile` as they are asked for. */
export async function readInContainer(session: Session, image: ImageInfo, sensor: MountSource, copyFile: string): Promise<PristineFilesystem> {
  const holder = await holderContainer(session, image, sensor, 'serve');
  let server: FileServer | undefined;
  try {
    // the image's volumes: the engine made each a volume of its own, filled with the image's files
    const volumes = ((await holder.inspect()).Mounts ?? []).filter((m) => m.Type === 'volume' && m.Destination !== SENSOR_DIR).map((m) => m.Destination);
    const exec = await holder.execSession([`${SENSOR_DIR}/init`, '--serve', ...volumes], { user: '0' });
    server = new FileServer(exec, new ExportWriter(copyFile));
    const walked = indexWalk(await server.listing, Buffer.alloc(0), asInitLayerHolds);
    const release = () => {
      server!.close();
      session.discardContainer(holder.id);
    };
    return { ...walked, refused: [], copy: new ContainerCopy(walked.index, walked.hostPaths, server, copyFile, release), via: 'container' };
  } catch (error) {
    server?.close();
    session.discardContainer(holder.id);
    throw error;
  }
}

/** What becomes of one answer of `init --serve`: its bytes, once it has said how many. */
interface Answer {
  begin(size: number): void;
  data(bytes: Buffer): void;
  end(): void;
  fail(error: Error): void;
}

/**
 * An answer of a known size (slimify knows each file's size from the listing): bytes kept in
 * memory, or written to `at` in the copy file. One of another size fails, its bytes dropped.
 */
function sizedAnswer(expected: number, sink: ((bytes: Buffer, at: number) => void) | undefined, settle: { resolve: (bytes: Buffer) => void; reject: (error: Error) => void }): Answer {
  const chunks: Buffer[] = [];
  let wrong: Error | undefined;
  let at = 0;
  return {
    begin: (size) => {
      if (size !== expected) wrong = new Error(`it sent ${size} bytes, where the listing said ${expected}`);
    },
    data: (bytes) => {
      if (wrong) return;
      if (sink) sink(bytes, at);
      else chunks.push(bytes);
      at += bytes.length;
    },
    end: () => (wrong ? settle.reject(wrong) : settle.resolve(Buffer.concat(chunks))),
    fail: settle.reject,
  };
}

/**
 * The slimify side of `init --serve`: the first answer is the listing, each later one the bytes
 * asked for (a decimal size and a newline, then the bytes; or "!" and why not). A whole file
 * goes into the copy file at a place set when it is asked for, so what reads it can know where
 * before it is there; a range of one (the closure's ELF reads) comes back in memory.
 */
export class FileServer {
  readonly listing: Promise<Buffer>;
  private readonly waiting: Answer[] = [];
  private current: Answer | undefined;
  private left = 0;
  private header: Buffer[] = [];
  /** bytes of the copy file given out to files asked for */
  private reserved = 0;
  private broken: Error | undefined;

  constructor(
    private readonly exec: ExecSession,
    private readonly writer: ExportWriter,
  ) {
    this.listing = new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      this.waiting.push({ begin: () => undefined, data: (bytes) => chunks.push(bytes), end: () => resolve(Buffer.concat(chunks)), fail: reject });
    });
    this.listing.catch(() => undefined);
    exec.output.on('data', (chunk: Buffer) => this.consume(chunk));
    exec.output.on('end', () => this.breakDown(new Error('it ended')));
    exec.output.on('error', (error: Error) => this.breakDown(error));
  }

  /** The `length` bytes at `offset` of the file named `name` (its bytes in the container), which has them all. */
  read(name: Buffer, offset: number, length: number): Promise<Buffer> {
    return new Promise((resolve, reject) => this.ask(name, offset, length, length, sizedAnswer(length, undefined, { resolve, reject: this.failure(name, reject) })));
  }

  /** The whole file `name` of `size` bytes into the copy file: where it will lie, and when it is there. */
  copy(name: Buffer, size: number): { start: number; done: Promise<void> } {
    const start = this.reserved;
    this.reserved += size;
    const done = new Promise<void>((resolve, reject) =>
      this.ask(name, 0, -1, size, sizedAnswer(size, (bytes, at) => this.writer.write(bytes, start + at), { resolve: () => resolve(), reject: this.failure(name, reject) })),
    );
    return { start, done };
  }

  close(): void {
    this.breakDown(new Error('it was closed'));
    this.exec.close();
  }

  private failure(name: Buffer, reject: (error: Error) => void): (error: Error) => void {
    return (error) => reject(new Error(`reading ${name.toString()} inside the container failed: ${error.message}`));
  }

  private ask(name: Buffer, offset: number, length: number, expected: number, answer: Answer): void {
    if (this.broken) return answer.fail(this.broken);
    if (expected === 0 && length >= 0) return (answer.begin(0), answer.end());
    this.waiting.push(answer);
    this.exec.input.write(Buffer.concat([name, Buffer.from(`\0${offset} ${length}\0`)]));
  }

  private consume(chunk: Buffer): void {
    let at = 0;
    try {
      while (at < chunk.length && !this.broken) {
        if (this.current) {
          const take = Math.min(this.left, chunk.length - at);
          this.current.data(chunk.subarray(at, at + take));
          at += take;
          this.left -= take;
          if (this.left === 0) this.finish();
          continue;
        }
        const newline = chunk.indexOf(10, at);
        this.header.push(chunk.subarray(at, newline < 0 ? chunk.length : newline));
        if (newline < 0) return;
        at = newline + 1;
        const line = Buffer.concat(this.header).toString();
        this.header = [];
        const answer = this.waiting.shift();
        if (!answer) throw new Error(`it answered what was not asked: ${JSON.stringify(line.slice(0, 80))}`);
        if (line.startsWith('!')) {
          answer.fail(new Error(line.slice(1)));
          continue;
        }
        // current before the size is checked: a bad one fails this answer with the rest
        this.current = answer;
        const size = /^\d+$/.test(line) ? Number(line) : NaN;
        if (!Number.isSafeInteger(size)) throw new Error(`it answered ${JSON.stringify(line.slice(0, 80))} where a size was due`);
        answer.begin(size);
        this.left = size;
        if (size === 0) this.finish();
      }
    } catch (error) {
      this.breakDown(error as Error);
    }
  }

  private finish(): void {
    const answer = this.current!;
    this.current = undefined;
    answer.end();
  }

  /** Fails every answer still due: the stream cannot go on. */
  private breakDown(cause: Error): void {
    if (this.broken) return;
    const errors = this.exec.errors().trim();
    this.broken = new Error(`slimify's file server in the container stopped: ${cause.message}${errors ? ` (${errors})` : ''}`);
    this.writer.close();
    for (const answer of [this.current, ...this.waiting.splice(0)]) answer?.fail(this.broken);
    this.current = undefined;
  }
}

/** What the closure reads of a file at a time: reads of an ELF file's parts fall in a few blocks of this size. */
const BLOCK = 64 * 1024;

/**
 * The bytes of the image's files, from the container: the closure's reads as ranges, in blocks
 * (an ELF file's headers, dynamic section and strings: a few kB of a 47 MB libnode), the kept
 * files whole into the copy file, each asked for at once and read by the layer as it comes.
 */
export class ContainerCopy extends PristineCopy {
  private readonly copies = new Map<string, { start: number; done: Promise<void> }>();

  constructor(
    index: FsIndex,
    /** each regular file's name in the container, by path */
    private readonly names: ReadonlyMap<string, Buffer>,
    private readonly server: FileServer,
    readonly file: string,
    private readonly release: () => void,
  ) {
    super(index);
  }

  /** Asks for every file of `paths` not asked for yet; resolves once all are in the copy (range() may be used before). */
  override prepare(paths: Iterable<string>): Promise<void> {
    const copies: Promise<void>[] = [];
    for (const path of paths) {
      const entry = this.fileEntry(path);
      if (entry) copies.push(this.copyOf(entry).done);
    }
    return Promise.all(copies).then(() => undefined);
  }

  private copyOf(entry: FsEntry): { start: number; done: Promise<void> } {
    return once(this.copies, entry.path, () => {
      const copy = entry.size === 0 ? { start: 0, done: Promise.resolve() } : this.server.copy(this.nameOf(entry), entry.size);
      copy.done.catch(() => undefined);
      return copy;
    });
  }

  private nameOf(entry: FsEntry): Buffer {
    const name = this.names.get(entry.path);
    if (name === undefined) throw new Error(`${entry.path} has no name in the container`);
    return name;
  }

  protected locate(path: string, size: number): ContentRange | undefined {
    const copy = this.copies.get(path);
    return copy === undefined ? undefined : { file: this.file, start: copy.start, size, ready: copy.done };
  }

  protected override async byteSource(path: string): Promise<FileByteSource | undefined> {
    const entry = this.fileEntry(path);
    if (!entry) return undefined;
    const name = this.nameOf(entry);
    const size = entry.size;
    const blocks = new Map<number, Promise<Buffer>>();
    const block = (n: number) => once(blocks, n, () => this.server.read(name, n * BLOCK, Math.min(BLOCK, size - n * BLOCK)));
    const close = async () => undefined;
    return {
      size,
      read: async (offset, length) => {
        const end = Math.min(size, offset + length);
        if (end <= offset) return Buffer.alloc(0);
        const parts: Promise<Buffer>[] = [];
        for (let n = Math.floor(offset / BLOCK); n * BLOCK < end; n++) parts.push(block(n));
        const first = Math.floor(offset / BLOCK) * BLOCK;
        return Buffer.concat(await Promise.all(parts)).subarray(offset - first, end - first);
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  }

  /** Ends the server, removes the holder container (in the background) and deletes the copy. */
  async remove(): Promise<void> {
    this.release();
    await rm(this.file, { force: true });
  }
}
