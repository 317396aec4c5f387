/**
 * The image's pristine filesystem: a container created from the image and never started, so it
 * holds exactly the image's files (the traced container holds runtime files too). Read whole
 * with `docker export` (once, for the index), or one file at a time through the archive API;
 * file contents slimify needs are kept in a FileSpool, so no file is fetched twice.
 */
import { createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { type FileByteSource, fileByteSource } from '../closure/byte-source.js';
import { type ElfInfo, readElf } from '../closure/elf-reader.js';
import type { ContainerHandle } from '../engine/container.js';
import type { Session } from '../engine/session.js';
import { diskError } from '../util/disk-error.js';
import { debug } from '../util/log.js';
import { byteExtract } from './byte-tar.js';
import { FileSpool } from './file-spool.js';

/** Files docker adds to every container (its init layer); they are not part of the image. */
export const CONTAINER_ONLY = new Set(['/.dockerenv']);

export class PristineSource {
  private constructor(
    private readonly container: ContainerHandle,
    private readonly scratch: string,
    readonly spool: FileSpool,
  ) {}

  /** `wanted`: the files to copy into the spool during the export pass. */
  static async open(session: Session, ref: string, wanted?: (path: string) => boolean): Promise<PristineSource> {
    const container = await session.container({
      image: ref,
      purpose: 'pristine',
      // never started: a command is only needed because some images have none
      entrypoint: ['/.slimify-never-started'],
      cmd: [],
    });
    const scratch = await session.tempDir('files');
    return new PristineSource(container, scratch, new FileSpool(scratch, wanted));
  }

  exportStream(): Promise<Readable> {
    return this.container.export();
  }

  /** A temp file with the content of the image's regular file at `path` (spooled, or fetched now); undefined when it is not a regular file. */
  async fetch(path: string): Promise<string | undefined> {
    const spooled = this.spool.get(path);
    if (spooled !== undefined) return spooled;
    const archive = await this.container.getArchive(path);
    const target = this.spool.allocate(path);
    const extract = byteExtract();
    let found = false;
    const done = (async () => {
      for await (const entry of extract) {
        if (!found && entry.header.type === 'file') {
          found = true;
          await pipeline(entry as unknown as Readable, createWriteStream(target));
        } else {
          entry.resume();
        }
      }
    })();
    await Promise.all([pipeline(archive, extract as unknown as NodeJS.WritableStream), done]).catch(async (error: unknown) => {
      await rm(target, { force: true });
      throw diskError(error, this.scratch, `copying ${path} out of the image`) ?? error;
    });
    debug(`fetched ${path} from the image`);
    if (!found) return undefined;
    this.spool.register(path, target);
    return target;
  }

  async readElf(path: string): Promise<ElfInfo | undefined> {
    const file = await this.fetch(path);
    if (!file) return undefined;
    let source: FileByteSource | undefined;
    try {
      source = await fileByteSource(file);
      return await readElf(source);
    } catch (error) {
      debug(`cannot read ${path} as ELF: ${(error as Error).message}`);
      return undefined;
    } finally {
      await source?.[Symbol.asyncDispose]();
    }
  }

  async readText(path: string): Promise<string | undefined> {
    const file = await this.fetch(path);
    return file === undefined ? undefined : readFile(file, 'utf8');
  }
}
