/**
 * The image's pristine filesystem: a container created from the image and never started, so it
 * holds exactly the image's files (the traced container holds runtime files too). Read whole
 * with `docker export`, or one file at a time through the archive API.
 */
import { createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { type FileByteSource, fileByteSource } from '../closure/byte-source.js';
import { type ElfInfo, readElf } from '../closure/elf-reader.js';
import { type ContainerHandle, createContainer } from '../engine/engine.js';
import type { Session } from '../engine/session.js';
import { diskError } from '../util/disk-error.js';
import { debug } from '../util/log.js';
import { byteExtract } from './byte-tar.js';

/** Files docker adds to every container (its init layer); they are not part of the image. */
export const CONTAINER_ONLY = new Set(['/.dockerenv']);

export class PristineSource {
  private constructor(
    private readonly container: ContainerHandle,
    private readonly scratch: string,
    private fetched = 0,
  ) {}

  static async open(session: Session, ref: string): Promise<PristineSource> {
    const container = await createContainer({
      image: ref,
      name: session.name('pristine'),
      // never started: a command is only needed because some images have none
      entrypoint: ['/.slimify-never-started'],
      cmd: [],
      labels: session.labels,
    });
    session.trackContainer(container.id);
    return new PristineSource(container, await session.tempDir('files'));
  }

  exportStream(): Promise<Readable> {
    return this.container.export();
  }

  /** Copies one regular file out of the image into a temp file; undefined when it is not a regular file. */
  async fetch(path: string): Promise<string | undefined> {
    const archive = await this.container.getArchive(path);
    const target = join(this.scratch, `f${++this.fetched}`);
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
    return found ? target : undefined;
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
      await rm(file, { force: true });
    }
  }

  async readText(path: string): Promise<string | undefined> {
    const file = await this.fetch(path);
    if (!file) return undefined;
    try {
      return await readFile(file, 'utf8');
    } finally {
      await rm(file, { force: true });
    }
  }
}
