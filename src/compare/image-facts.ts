/**
 * What `slimify compare` measures of one image, all streaming: the engine's own figures
 * (inspect), each layer tar of `docker save` gzipped (level 6, as `docker push` does by default)
 * and counted, and the merged filesystem from `docker export` of a created, never started
 * container, walked into an FsIndex.
 */
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import type { FsIndex } from '../closure/fs-index.js';
import { type ImageInfo, requireImage, saveImage } from '../engine/engine.js';
import type { Session } from '../engine/session.js';
import { readPristine } from '../assemble/pristine-source.js';

export interface ImageFacts {
  ref: string;
  id: string;
  /** the engine's Size (uncompressed, all layers) */
  size: number;
  layers: number;
  /** sum of each layer tar gzipped at level 6 */
  compressedLayerBytes: number;
  /** sum of the layer tars as docker save writes them (uncompressed) */
  layerTarBytes: number;
  info: ImageInfo;
  index: FsIndex;
}

function isTar(head: Buffer): boolean {
  return head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

function counter(): { sink: Writable; bytes: () => number } {
  let bytes = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  return { sink, bytes: () => bytes };
}

/** Gzips every tar inside a `docker save` stream (the layers; configs and manifests are JSON) and counts bytes. */
export async function measureLayers(archive: Readable): Promise<{ compressed: number; uncompressed: number }> {
  const extract = tar.extract();
  let compressed = 0;
  let uncompressed = 0;
  const walk = (async () => {
    for await (const entry of extract) {
      if (entry.header.type !== 'file' || (entry.header.size ?? 0) < 512) {
        entry.resume();
        continue;
      }
      const iterator = (entry as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      let head = Buffer.alloc(0);
      const chunks: Buffer[] = [];
      while (head.length < 512) {
        const next = await iterator.next();
        if (next.done) break;
        chunks.push(next.value);
        head = Buffer.concat([head, next.value]);
      }
      if (!isTar(head)) {
        for (;;) if ((await iterator.next()).done) break;
        continue;
      }
      uncompressed += entry.header.size ?? 0;
      const count = counter();
      async function* replay(): AsyncGenerator<Buffer> {
        yield* chunks;
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          yield next.value;
        }
      }
      await pipeline(replay(), createGzip({ level: 6 }), count.sink);
      compressed += count.bytes();
    }
  })();
  await Promise.all([pipeline(archive, extract as unknown as NodeJS.WritableStream), walk]);
  return { compressed, uncompressed };
}

export async function imageFacts(session: Session, ref: string, onStep?: (step: string) => void): Promise<ImageFacts> {
  const info = await requireImage(ref);
  onStep?.(`reading the filesystem of ${ref}`);
  const { index } = await readPristine(session, info.id);
  onStep?.(`compressing the layers of ${ref}`);
  const layers = await measureLayers(await saveImage(info.id));
  return {
    ref,
    id: info.id,
    size: info.size,
    layers: info.raw.RootFS?.Layers?.length ?? 0,
    compressedLayerBytes: layers.compressed,
    layerTarBytes: layers.uncompressed,
    info,
    index,
  };
}
