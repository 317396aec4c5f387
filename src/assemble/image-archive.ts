/**
 * The slim image as a `docker load` tarball: one layer, the original config with provenance
 * labels, and a manifest naming the output tag. The config keeps the original's creation time,
 * so the same input gives the same image id.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { ImageInfo } from '../engine/engine.js';
import { VERSION } from '../version.js';

export const LABEL_SOURCE_IMAGE = 'slimify.source.image';
export const LABEL_SOURCE_ID = 'slimify.source.id';
export const LABEL_VERSION = 'slimify.version';

export function slimConfig(original: ImageInfo, sourceRef: string, diffId: string): Record<string, unknown> {
  const raw = original.raw as unknown as Record<string, unknown>;
  const { Image: _parent, ...config } = (raw.Config ?? {}) as Record<string, unknown>;
  const labels = { ...((config.Labels as Record<string, string> | null) ?? {}) };
  labels[LABEL_SOURCE_IMAGE] = sourceRef;
  labels[LABEL_SOURCE_ID] = original.id;
  labels[LABEL_VERSION] = VERSION;
  const document: Record<string, unknown> = {
    architecture: original.architecture,
    os: original.os,
    created: original.created,
    config: { ...config, Labels: labels },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: original.created, created_by: `slimify build ${sourceRef}`, comment: `slimify ${VERSION}: files used by the app, from ${original.id}` }],
  };
  if (raw.Variant) document.variant = raw.Variant;
  if (raw.Author) document.author = raw.Author;
  return document;
}

export function imageArchive(layerPath: string, layerSize: number, config: Record<string, unknown>, repoTag: string): { stream: Readable; imageId: string } {
  const configJson = Buffer.from(JSON.stringify(config));
  const configDigest = createHash('sha256').update(configJson).digest('hex');
  const manifest = Buffer.from(JSON.stringify([{ Config: `${configDigest}.json`, RepoTags: [repoTag], Layers: ['layer/layer.tar'] }]));
  const pack = tar.pack();
  const epoch = new Date(0);
  void (async () => {
    try {
      pack.entry({ name: 'layer/', type: 'directory', mode: 0o755, mtime: epoch });
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry({ name: 'layer/layer.tar', size: layerSize, mode: 0o644, mtime: epoch }, (error) => (error ? reject(error) : resolve()));
        const layer = createReadStream(layerPath);
        layer.on('error', reject);
        layer.pipe(sink as unknown as NodeJS.WritableStream);
      });
      pack.entry({ name: `${configDigest}.json`, mode: 0o644, mtime: epoch }, configJson);
      pack.entry({ name: 'manifest.json', mode: 0o644, mtime: epoch }, manifest);
      pack.finalize();
    } catch (error) {
      pack.destroy(error as Error);
    }
  })();
  return { stream: pack as unknown as Readable, imageId: `sha256:${configDigest}` };
}
