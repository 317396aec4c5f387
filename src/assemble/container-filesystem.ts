/**
 * The image's pristine filesystem read from inside a container of the image, for a build that
 * cannot read it where the engine mounts it (slimify not root, a remote engine). The holder
 * container of mounted-filesystem.ts runs slimify's init `--serve` through `docker exec`: it walks
 * the container's root as `--walk` walks a mounted one and sends the listing, then sends the
 * content of each file slimify asks for. So the build reads a few hundred kB of metadata and the
 * files it keeps, where `docker export` makes the engine tar, and slimify read and copy, every
 * byte of the image (nginx: 137 MB for 10 MB kept).
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
import { type ContentRange, ExportWriter, PristineCopy } from './export-copy.js';
import { holderContainer, indexWalk } from './mounted-filesystem.js';
import type { PristineFilesystem } from './pristine-source.js';

/** Files the engine mounts into every container over the image's; its init layer holds them empty (root's, mode 755). */
const ENGINE_FILES = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf']);

function asInitLayerHolds(entry: FsEntry): void {
  if (entry.type === 'file' && ENGINE_FILES.has(entry.path)) Object.assign(entry, { size: 0, mode: 0o755, uid: 0, gid: 0 });
}

/** Reads the image's filesystem from inside a holder container; the files' content is copied into `copyFile` as it is asked for. */
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

/** What becomes of one answer of `init --serve`. */
interface Answer {
  begin(size: number): void;
  data(bytes: Buffer): void;
  end(): void;
  fail(error: Error): void;
}

/**
 * The slimify side of `init --serve`: the first answer is the listing, each later one the content
 * of a file asked for (its size in decimal and a newline, then the bytes; or "!" and why not).
 * Contents go into the copy file in the order they come, and each request learns where its
 * content lies there.
 */
export class FileServer {
  readonly listing: Promise<Buffer>;
  private readonly waiting: Answer[] = [];
  private current: Answer | undefined;
  private left = 0;
  private header: Buffer[] = [];
  private written = 0;
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

  /** Where the content of the file named `name` (its bytes in the container) lies in the copy. */
  request(name: Buffer): Promise<{ start: number; size: number }> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      let start = 0;
      let size = 0;
      this.waiting.push({
        begin: (bytes) => {
          start = this.written;
          size = bytes;
        },
        data: (bytes) => {
          this.writer.write(bytes);
          this.written += bytes.length;
        },
        end: () => resolve({ start, size }),
        fail: (error) => reject(new Error(`reading ${name.toString()} inside the container failed: ${error.message}`)),
      });
      this.exec.input.write(Buffer.concat([name, Buffer.of(0)]));
    });
  }

  close(): void {
    this.breakDown(new Error('it was closed'));
    this.exec.close();
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

/** The bytes of the image's files, fetched from the container as they are first needed, and kept in a copy file. */
export class ContainerCopy extends PristineCopy {
  private readonly starts = new Map<string, number>();
  private readonly fetching = new Map<string, Promise<void>>();

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

  override async prepare(paths: Iterable<string>): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const path of paths) {
      let entry = this.index.get(path);
      if (entry?.type === 'hardlink') entry = this.index.get(entry.linkname!);
      if (entry?.type !== 'file' || this.starts.has(entry.path)) continue;
      let fetched = this.fetching.get(entry.path);
      if (!fetched) {
        fetched = this.fetch(entry);
        this.fetching.set(entry.path, fetched);
      }
      waits.push(fetched);
    }
    await Promise.all(waits);
  }

  private async fetch(entry: FsEntry): Promise<void> {
    if (entry.size === 0) {
      this.starts.set(entry.path, 0);
      return;
    }
    const name = this.names.get(entry.path);
    if (name === undefined) throw new Error(`${entry.path} has no name in the container`);
    const { start, size } = await this.server.request(name);
    if (size !== entry.size) throw new Error(`${entry.path} inside the container has ${size} bytes, but ${entry.size} when it was listed`);
    this.starts.set(entry.path, start);
  }

  protected locate(path: string, size: number): ContentRange | undefined {
    const start = this.starts.get(path);
    return start === undefined ? undefined : { file: this.file, start, size };
  }

  /** Ends the server, removes the holder container (in the background) and deletes the copy. */
  async remove(): Promise<void> {
    this.release();
    await rm(this.file, { force: true });
  }
}
