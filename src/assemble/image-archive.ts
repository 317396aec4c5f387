/**
 * The slim image as a `docker load` tarball: one layer, the original config with provenance
 * labels, and a manifest naming the output tag. The config keeps the original's creation time,
 * so the same input gives the same image id.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ImageInfo } from '../engine/engine.js';
import { VERSION } from '../version.js';
import { blockPadding } from './pax-records.js';
import { END_OF_ARCHIVE, headerBlocks } from './tar-header.js';

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

export interface SlimArchive {
  /** the `docker load` tarball */
  stream: Readable;
  /** the layer's digest (its diff_id) and the image id, known once the layer has streamed by */
  ids: Promise<{ diffId: string; imageId: string }>;
}

/**
 * Streams the layer first and the config after it: the config names the layer's digest, which
 * is only known once the layer has been hashed, and `docker load` reads the whole tarball before
 * it looks at the manifest. So the layer never touches the disk.
 */
export function imageArchive(layer: { stream: Readable; size: number }, configFor: (diffId: string) => Record<string, unknown>, repoTag: string): SlimArchive {
  let settle!: { resolve: (ids: { diffId: string; imageId: string }) => void; reject: (error: unknown) => void };
  const ids = new Promise<{ diffId: string; imageId: string }>((resolve, reject) => (settle = { resolve, reject }));
  ids.catch(() => undefined); // the stream carries the same error to whoever reads it
  const epoch = new Date(0);
  const file = (name: string, size: number) => headerBlocks({ name, type: 'file', size, mode: 0o644, mtime: epoch, uid: 0, gid: 0, uname: '', gname: '', devmajor: 0, devminor: 0, linkname: '' });
  const stream = Readable.from(
    (async function* () {
      try {
        yield headerBlocks({ name: 'layer/', type: 'directory', size: 0, mode: 0o755, mtime: epoch, uid: 0, gid: 0, uname: '', gname: '', devmajor: 0, devminor: 0, linkname: '' });
        yield file('layer/layer.tar', layer.size);
        const hash = createHash('sha256');
        let bytes = 0;
        for await (const chunk of layer.stream as AsyncIterable<Buffer>) {
          hash.update(chunk);
          bytes += chunk.length;
          yield chunk;
        }
        if (bytes !== layer.size) throw new Error(`the slim layer came to ${bytes} bytes, not the ${layer.size} planned`);
        yield blockPadding(bytes);
        const diffId = `sha256:${hash.digest('hex')}`;
        const configJson = Buffer.from(JSON.stringify(configFor(diffId)));
        const configDigest = createHash('sha256').update(configJson).digest('hex');
        const manifest = Buffer.from(JSON.stringify([{ Config: `${configDigest}.json`, RepoTags: [repoTag], Layers: ['layer/layer.tar'] }]));
        for (const [name, body] of [[`${configDigest}.json`, configJson], ['manifest.json', manifest]] as const) {
          yield file(name, body.length);
          yield body;
          yield blockPadding(body.length);
        }
        yield END_OF_ARCHIVE;
        settle.resolve({ diffId, imageId: `sha256:${configDigest}` });
      } catch (error) {
        settle.reject(error);
        throw error;
      }
    })(),
    { objectMode: false },
  );
  return { stream, ids };
}
