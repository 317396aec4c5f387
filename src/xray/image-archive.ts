/**
 * Reads a `docker save` tarball in one pass, in either layout: classic (`<id>/layer.tar`,
 * `<id>.json`) or OCI (`blobs/sha256/<digest>`, `index.json`). `manifest.json` may come after the
 * layers, so every layer is scanned as it streams by, keyed by its path in the archive, and joined
 * with the manifest at the end. Only JSON documents are buffered, never a layer.
 */
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { SlimifyError } from '../errors.js';
import { scanLayer, type LayerFacts } from './layer-facts.js';

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  empty_layer?: boolean;
  comment?: string;
}

export interface ImageConfigDocument {
  history?: HistoryEntry[];
  rootfs?: { diff_ids?: string[] };
  config?: Record<string, unknown>;
  architecture?: string;
  os?: string;
}

export interface ArchiveLayer {
  /** Path of the layer in the archive, as the manifest names it. */
  archivePath: string;
  /** Uncompressed digest from the config (rootfs.diff_ids), when present. */
  diffId?: string;
  /** Bytes of the layer tarball as stored in the archive. */
  archiveBytes: number;
  facts: LayerFacts;
}

export interface ImageArchive {
  repoTags: string[];
  config: ImageConfigDocument;
  layers: ArchiveLayer[];
}

interface ManifestItem {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

const JSON_LIMIT = 16 * 1024 * 1024;

function archiveError(message: string, cause?: unknown): SlimifyError {
  return new SlimifyError(message, { code: 'usage', stage: 'xray', cause });
}

/**
 * Splits the first bytes (at least `min`, unless the stream is shorter) off a stream so the
 * content type can be sniffed without losing data. One chunk is not enough: where chunks begin
 * depends on how the archive arrived, and a first chunk of a few bytes hides a tar's magic.
 */
async function peek(stream: AsyncIterable<unknown>, min = 512): Promise<{ head: Buffer; rest: Readable }> {
  const iterator = stream[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let length = 0;
  while (length < min) {
    const next = await iterator.next();
    if (next.done) break;
    parts.push(next.value as Buffer);
    length += (next.value as Buffer).length;
  }
  const head = Buffer.concat(parts);
  async function* replay(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value as Buffer;
    }
  }
  return { head, rest: Readable.from(replay(), { objectMode: false }) };
}

async function readAll(stream: AsyncIterable<unknown>, limit: number, name: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += (chunk as Buffer).length;
    if (total > limit) throw archiveError(`${name} in the image archive is larger than ${limit} bytes: not a JSON document`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function isTar(head: Buffer): boolean {
  return head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

function isGzip(head: Buffer): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

function isZstd(head: Buffer): boolean {
  return head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528;
}

function looksLikeLayerPath(name: string): boolean {
  return name.endsWith('layer.tar') || name.startsWith('blobs/');
}

/** Streams a docker-save tarball and returns the per-layer facts joined with the manifest. */
export async function readImageArchive(source: Readable): Promise<ImageArchive> {
  const extract = tar.extract();
  const layerFacts = new Map<string, { facts: LayerFacts; bytes: number }>();
  const documents = new Map<string, Buffer>();
  const aliases = new Map<string, string>();

  const reading = (async () => {
    for await (const entry of extract) {
      const name = posix.normalize(entry.header.name).replace(/^\.\//, '');
      const type = entry.header.type;
      if (type === 'symlink' || type === 'link') {
        const target = entry.header.linkname ?? '';
        aliases.set(name, type === 'symlink' ? posix.normalize(posix.join(posix.dirname(name), target)) : posix.normalize(target));
        entry.resume();
        continue;
      }
      if (type !== 'file' && type !== 'contiguous-file') {
        entry.resume();
        continue;
      }
      if (name.endsWith('.json') && !name.startsWith('blobs/')) {
        documents.set(name, await readAll(entry, JSON_LIMIT, name));
        continue;
      }
      if (!looksLikeLayerPath(name)) {
        entry.resume();
        continue;
      }
      const { head, rest } = await peek(entry);
      if (head.length > 0 && head[0] === 0x7b /* '{' */) {
        documents.set(name, await readAll(rest, JSON_LIMIT, name));
      } else if (isGzip(head)) {
        layerFacts.set(name, { facts: await scanLayer(rest.pipe(createGunzip())), bytes: entry.header.size ?? 0 });
      } else if (isZstd(head)) {
        throw archiveError(`layer ${name} is zstd-compressed, which slimify xray cannot read yet: save the image with an engine that stores gzip or plain layers`);
      } else if (isTar(head) || head.length === 0) {
        layerFacts.set(name, { facts: await scanLayer(rest), bytes: entry.header.size ?? 0 });
      } else {
        rest.resume();
      }
    }
  })();

  try {
    await Promise.all([pipeline(source, extract), reading]);
  } catch (error) {
    if (error instanceof SlimifyError) throw error;
    throw archiveError(`cannot read the image archive: ${(error as Error).message}. Is it a \`docker save\` tarball (not gzipped)?`, error);
  }
  return joinManifest(documents, layerFacts, aliases);
}

function parseJson<T>(documents: Map<string, Buffer>, name: string): T {
  const raw = documents.get(name);
  if (!raw) throw archiveError(`the image archive has no ${name}: is it a \`docker save\` tarball?`);
  try {
    return JSON.parse(raw.toString('utf8')) as T;
  } catch (error) {
    throw archiveError(`${name} in the image archive is not valid JSON`, error);
  }
}

function joinManifest(
  documents: Map<string, Buffer>,
  layerFacts: Map<string, { facts: LayerFacts; bytes: number }>,
  aliases: Map<string, string>,
): ImageArchive {
  const manifest = parseJson<ManifestItem[]>(documents, 'manifest.json');
  const item = manifest[0];
  if (!item) throw archiveError('manifest.json in the image archive lists no image');
  if (manifest.length > 1) {
    throw archiveError(`the image archive holds ${manifest.length} images: save one image per archive for xray`);
  }
  const config = parseJson<ImageConfigDocument>(documents, posix.normalize(item.Config));
  const diffIds = config.rootfs?.diff_ids ?? [];
  const layers = item.Layers.map((layerPath, index): ArchiveLayer => {
    let path = posix.normalize(layerPath);
    for (let hops = 0; !layerFacts.has(path) && aliases.has(path) && hops < 8; hops++) path = aliases.get(path)!;
    const found = layerFacts.get(path);
    if (!found) throw archiveError(`layer ${layerPath} named by manifest.json is missing from the image archive`);
    return { archivePath: layerPath, diffId: diffIds[index], archiveBytes: found.bytes, facts: found.facts };
  });
  return { repoTags: item.RepoTags ?? [], config, layers };
}
