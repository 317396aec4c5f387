import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readImageArchive } from '../../../src/xray/image-archive.js';
import { buildReport } from '../../../src/xray/xray-report.js';
import { buildTar, bytes, classicArchive, stream } from './tar-builder.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function* chunked(buffer: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < buffer.length; at += size) yield buffer.subarray(at, at + size);
}

async function wastefulArchive(): Promise<Buffer> {
  const base = await buildTar([
    { name: 'bin/', type: 'directory' },
    { name: 'bin/sh', content: bytes(1000, 's') },
    { name: 'var/lib/apt/lists/', type: 'directory' },
    { name: 'var/lib/apt/lists/lock', content: '' },
  ]);
  const add = await buildTar([
    { name: 'data/', type: 'directory' },
    { name: 'data/big', content: bytes(5000, 'b') },
    { name: 'data/conf', content: bytes(300, 'c') },
    { name: 'dup/', type: 'directory' },
    { name: 'dup/one', content: bytes(700, 'd') },
    { name: 'dup/two', content: bytes(700, 'd') },
    { name: 'var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease', content: bytes(400, 'l') },
  ]);
  const change = await buildTar([
    { name: 'data/', type: 'directory' },
    { name: 'data/.wh.big', content: '' },
    { name: 'data/conf', content: bytes(200, 'C') },
  ]);
  return classicArchive(
    [base, add, change],
    [
      { created_by: '', empty_layer: false },
      { created_by: '/bin/sh -c #(nop)  ENV A=1', empty_layer: true },
      { created_by: '/bin/sh -c #(nop) COPY dir:abc in / ' },
      { created_by: '/bin/sh -c rm /data/big && echo > /data/conf' },
    ],
  );
}

describe('image archive', () => {
  it('joins layers read before manifest.json with it, and hashes file content', async () => {
    const archive = await readImageArchive(stream(await wastefulArchive()));
    expect(archive.repoTags).toEqual(['test:latest']);
    expect(archive.layers.map((l) => l.facts.contentBytes)).toEqual([1000, 7100, 200]);
    const two = archive.layers[1]!.facts.entries.find((e) => e.path === '/dup/two');
    expect(two?.sha256).toBe(sha(bytes(700, 'd')));
    expect(archive.layers[2]!.facts.whiteouts).toEqual([{ path: '/data/big', opaque: false }]);
  });

  it('reads the same archive cut into chunks of a few bytes (a layer whose first chunk hides its magic)', async () => {
    const whole = await wastefulArchive();
    const archive = await readImageArchive(Readable.from(chunked(whole, 7), { objectMode: false }));
    expect(archive.layers.map((l) => l.facts.contentBytes)).toEqual([1000, 7100, 200]);
  });

  it('follows layer.tar links to a layer stored once', async () => {
    const layer = await buildTar([{ name: 'a', content: 'hello' }]);
    const tarball = await buildTar([
      { name: 'one/layer.tar', content: layer },
      { name: 'two/layer.tar', type: 'symlink', linkname: '../one/layer.tar' },
      { name: 'c.json', content: JSON.stringify({ history: [] }) },
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'c.json', Layers: ['one/layer.tar', 'two/layer.tar'] }]) },
    ]);
    const archive = await readImageArchive(stream(tarball));
    expect(archive.layers.map((l) => l.facts.contentBytes)).toEqual([5, 5]);
  });

  it('reads the OCI layout (blobs/sha256, gzip layers)', async () => {
    const { gzipSync } = await import('node:zlib');
    const layer = gzipSync(await buildTar([{ name: 'etc/', type: 'directory' }, { name: 'etc/x', content: 'abc' }]));
    const config = JSON.stringify({ history: [{ created_by: 'COPY x /etc/x # buildkit' }] });
    const tarball = await buildTar([
      { name: 'blobs/', type: 'directory' },
      { name: 'blobs/sha256/', type: 'directory' },
      { name: 'blobs/sha256/aaa', content: layer },
      { name: 'blobs/sha256/ccc', content: config },
      { name: 'index.json', content: '{}' },
      { name: 'manifest.json', content: JSON.stringify([{ Config: 'blobs/sha256/ccc', Layers: ['blobs/sha256/aaa'] }]) },
    ]);
    const report = buildReport('oci', await readImageArchive(stream(tarball)));
    expect(report.layers[0]!.createdBy).toBe('COPY x /etc/x # buildkit');
    expect(report.visible).toEqual({ files: 1, bytes: 3 });
  });

  it('says what is wrong with a file that is not an image archive', async () => {
    await expect(readImageArchive(stream(Buffer.from('not a tar at all')))).rejects.toThrow(/docker save/);
  });
});

describe('xray report', () => {
  it('separates dive wasted bytes from the bytes really reclaimable (hand-computed)', async () => {
    const report = buildReport('test', await readImageArchive(stream(await wastefulArchive())));
    // dive: /data/big seen twice (5000 + 0), /data/conf twice (300 + 200)
    expect(report.dive.wastedBytes).toBe(5500);
    expect(report.dive.sizeBytes).toBe(8300);
    expect(report.dive.userSizeBytes).toBe(7300);
    expect(report.dive.efficiency).toBeCloseTo((8300 - 5000 - 300) / 8300, 10);
    // really reclaimable: the hidden copies (5000 + 300), one duplicate (700), the apt list (400)
    expect(report.reclaimable).toEqual({ hiddenBytes: 5300, duplicateBytes: 700, cacheBytes: 400, totalBytes: 6400 });
    expect(report.layers.map((l) => l.createdBy)).toEqual(['(unknown)', 'COPY dir:abc in /', 'RUN rm /data/big && echo > /data/conf']);
    expect(report.layers[2]).toMatchObject({ added: { count: 0 }, changed: { count: 1, bytes: 200 }, deleted: { count: 1, bytes: 5000 } });
    expect(report.deletedLater).toEqual([{ path: '/data/big', size: 5000, addedIn: 1, hiddenIn: 2, how: 'deleted' }]);
    expect(report.overwritten.map((o) => o.path)).toEqual(['/data/conf']);
    expect(report.duplicates).toEqual([{ sha256: sha(bytes(700, 'd')), bytes: 700, paths: ['/dup/one', '/dup/two'], reclaimableBytes: 700 }]);
    expect(report.caches).toMatchObject([{ id: 'apt-lists', files: 1, bytes: 400, layers: [1] }]);
    expect(report.biggestFiles[0]).toEqual({ path: '/bin/sh', bytes: 1000, layer: 0 });
    expect(report.visible).toEqual({ files: 6, bytes: 1000 + 0 + 200 + 700 + 700 + 400 });
  });
});
