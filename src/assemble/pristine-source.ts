/**
 * The image's pristine filesystem: a container created from the image and never started, so it
 * holds exactly the image's files (the traced container holds runtime files too), read whole
 * with one `docker export`. The container is removed as soon as the export has been read.
 */
import { join } from 'node:path';
import type { Session } from '../engine/session.js';
import { ExportCopy } from './export-copy.js';
import { type IndexResult, indexFilesystem } from './index-filesystem.js';

export interface PristineFilesystem extends IndexResult {
  /** the bytes of every file, when a copy was asked for */
  copy?: ExportCopy;
}

export interface ReadOptions {
  /** keep a copy of the export in this directory to read files from later (see copyDirectory, ensureRoom) */
  copy?: string;
  onProgress?: (bytes: number, entries: number) => void;
}

export async function readPristine(session: Session, ref: string, options: ReadOptions = {}): Promise<PristineFilesystem> {
  let copyTo: string | undefined;
  if (options.copy) {
    copyTo = join(await session.tempDir('export', options.copy), 'filesystem.tar');
  }
  const container = await session.container({
    image: ref,
    purpose: 'pristine',
    // never started: a command is only needed because some images have none
    entrypoint: ['/.slimify-never-started'],
    cmd: [],
  });
  try {
    const indexed = await indexFilesystem(await container.export(), { copyTo, onProgress: options.onProgress });
    return { ...indexed, copy: copyTo ? new ExportCopy(copyTo, indexed.index, indexed.offsets) : undefined };
  } finally {
    session.discardContainer(container.id);
  }
}
