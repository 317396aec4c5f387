/** Builds real tar archives in memory for tests: layers, and docker-save tarballs around them. */
import { Readable } from 'node:stream';
import tar from 'tar-stream';

export type TestEntry =
  | { name: string; type?: 'file'; content: string | Buffer }
  | { name: string; type: 'directory' }
  | { name: string; type: 'symlink' | 'link'; linkname: string };

export async function buildTar(entries: TestEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer);
  })();
  for (const entry of entries) {
    if (entry.type === 'directory') pack.entry({ name: entry.name, type: 'directory', mode: 0o755 });
    else if (entry.type === 'symlink' || entry.type === 'link') pack.entry({ name: entry.name, type: entry.type, linkname: entry.linkname });
    else pack.entry({ name: entry.name, mode: 0o644 }, entry.content);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

export const bytes = (n: number, fill = 'x') => Buffer.alloc(n, fill);

/** A classic-layout docker-save tarball, manifest.json last (as engines may write it). */
export async function classicArchive(layers: Buffer[], history: Array<{ created_by: string; empty_layer?: boolean }>): Promise<Buffer> {
  const config = { architecture: 'amd64', os: 'linux', history, rootfs: { type: 'layers', diff_ids: layers.map((_, i) => `sha256:${String(i).padStart(64, '0')}`) } };
  const entries: TestEntry[] = [];
  layers.forEach((layer, i) => {
    entries.push({ name: `layer${i}/`, type: 'directory' }, { name: `layer${i}/layer.tar`, content: layer });
  });
  entries.push({ name: 'cfg.json', content: JSON.stringify(config) });
  entries.push({ name: 'manifest.json', content: JSON.stringify([{ Config: 'cfg.json', RepoTags: ['test:latest'], Layers: layers.map((_, i) => `layer${i}/layer.tar`) }]) });
  return buildTar(entries);
}

export const stream = (buffer: Buffer) => Readable.from([buffer]);
