// Index a tar stream the way a build does (keeping a copy of it on disk to read contents from),
// and write a slim layer from it to a file.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ExportCopy } from '../../../src/assemble/export-copy.js';
import { indexFilesystem } from '../../../src/assemble/index-filesystem.js';
import { type LayerSource, layerStream, planLayer } from '../../../src/assemble/write-layer.js';

export async function indexWithCopy(stream: Readable, dir: string) {
  const file = join(dir, `copy-${randomBytes(4).toString('hex')}.tar`);
  const indexed = await indexFilesystem(stream, { copyTo: file });
  return { indexed, copy: new ExportCopy(file, indexed.index, indexed.offsets) };
}

/** Plans a layer and streams it to `out`, as a build streams it into the engine; returns its digest. */
export async function writeLayerFile(source: LayerSource, keep: Iterable<string>, out: string, options: { clampMtime: Date; modes?: ReadonlyMap<string, number> }) {
  const plan = planLayer(source, keep, options);
  const hash = createHash('sha256');
  const stream = layerStream(plan);
  stream.on('data', (chunk: Buffer) => hash.update(chunk));
  await pipeline(stream, createWriteStream(out));
  return { diffId: `sha256:${hash.digest('hex')}`, size: statSync(out).size, planned: plan.size, entries: plan.entries.length, contentBytes: plan.contentBytes };
}
