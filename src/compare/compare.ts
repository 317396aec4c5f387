/**
 * `slimify compare IMAGE_A IMAGE_B`: the two images side by side, and what accounts for the
 * difference. Typical use: an image and its slim version.
 */
import { pingEngine } from '../engine/engine.js';
import { Session } from '../engine/session.js';
import { onInterrupt } from '../util/interrupt.js';
import { Progress } from '../util/log.js';
import { type ConfigDifference, type FilesystemDiff, diffConfigs, diffFilesystems } from './diff-indexes.js';
import { imageFacts } from './image-facts.js';

export interface ImageSummary {
  ref: string;
  id: string;
  /** the engine's Size: uncompressed bytes of all layers (docker image inspect .Size) */
  size: number;
  layers: number;
  /** each layer tar of docker save gzipped at level 6, summed */
  compressedLayerBytes: number;
  /** regular files in the merged filesystem (docker export of a created container) */
  regularFiles: number;
  /** bytes of regular-file content in the merged filesystem */
  contentBytes: number;
}

export interface CompareReport {
  a: ImageSummary;
  b: ImageSummary;
  /** a.size / b.size */
  ratio: number;
  filesystem: FilesystemDiff;
  config: ConfigDifference[];
  method: { compressed: string; files: string };
}

export async function compareImages(refA: string, refB: string, options: { top: number }): Promise<CompareReport> {
  // one session per image: each holds one pristine container, removed as soon as it is read
  const sessions = [new Session(), new Session()] as const;
  const stopCleanup = onInterrupt(async () => {
    await Promise.all(sessions.map((s) => s.dispose()));
  });
  try {
    await pingEngine();
    const progress = new Progress('comparing images');
    const a = await imageFacts(sessions[0], refA, (step) => progress.update(step));
    await sessions[0].dispose();
    const b = await imageFacts(sessions[1], refB, (step) => progress.update(step));
    await sessions[1].dispose();
    progress.done();
    const filesystem = diffFilesystems(a.index, b.index, { top: options.top });
    const summary = (f: typeof a, side: 'a' | 'b'): ImageSummary => ({
      ref: f.ref,
      id: f.id,
      size: f.size,
      layers: f.layers,
      compressedLayerBytes: f.compressedLayerBytes,
      regularFiles: filesystem.regularFiles[side],
      contentBytes: filesystem.contentBytes[side],
    });
    return {
      a: summary(a, 'a'),
      b: summary(b, 'b'),
      ratio: b.size > 0 ? a.size / b.size : 0,
      filesystem,
      config: diffConfigs(a.info.config, b.info.config),
      method: {
        compressed: 'each layer tar from docker save, gzipped at level 6 and counted (a registry may store slightly different bytes)',
        files: 'regular files of docker export of a created, never started container (hardlinks, symlinks and directories not counted)',
      },
    };
  } finally {
    stopCleanup();
    for (const session of sessions) await session.dispose();
  }
}
