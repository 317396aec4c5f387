/**
 * The image's pristine filesystem: a container created from the image and never started, so it
 * holds exactly the image's files (the traced container holds runtime files too), read whole
 * with one `docker export`. The container is removed as soon as the export has been read.
 */
import { join } from 'node:path';
import type { Session } from '../engine/session.js';
import { SlimifyError } from '../errors.js';
import { ExportCopy, type PristineCopy } from './export-copy.js';
import { type FilesystemIndex, indexFilesystem } from './index-filesystem.js';

export interface PristineFilesystem extends FilesystemIndex {
  /** entries refused because their names escape the root (the export only) */
  refused: string[];
  /** the bytes of every file, when a copy was asked for */
  copy?: PristineCopy;
  /** where it was read: the export, where the engine mounts it (mounted-filesystem.ts) or inside a container (container-filesystem.ts) */
  via: ReadVia;
}

export type ReadVia = 'export' | 'mount' | 'container';
export type ReadWay = 'auto' | ReadVia;

/**
 * SLIMIFY_READ: how a build reads the image's filesystem (auto: where the engine mounts it when
 * it can, else inside a container, else the export).
 */
export function requestedReadWay(): ReadWay {
  const value = process.env.SLIMIFY_READ ?? 'auto';
  if (value === 'auto' || value === 'mount' || value === 'container' || value === 'export') return value;
  throw new SlimifyError(`SLIMIFY_READ is ${JSON.stringify(value)}: expected auto, mount, container or export`, { code: 'usage', stage: 'index' });
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
    return { ...indexed, copy: copyTo ? new ExportCopy(copyTo, indexed.index, indexed.offsets) : undefined, via: 'export' };
  } finally {
    session.discardContainer(container.id);
  }
}
