// The slim layer is written from the index: parents before children, hardlinks after their
// targets, modes kept even when they are 0, contents from the copy of the export, the same bytes every time.
import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { indexWithCopy, writeLayerFile } from './copy-support.js';

const work = mkdtempSync(join(tmpdir(), 'slimify-write-layer-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function sourceArchive(): string {
  const root = join(work, 'root');
  mkdirSync(join(root, 'app/data'), { recursive: true });
  writeFileSync(join(root, 'app/a.txt'), 'a\n');
  writeFileSync(join(root, 'app/secret'), 'no one may read this\n');
  chmodSync(join(root, 'app/secret'), 0o000);
  linkSync(join(root, 'app/a.txt'), join(root, 'app/0-hardlink'));
  writeFileSync(join(root, 'app/unused'), 'x'.repeat(10_000));
  const archive = join(work, 'source.tar');
  execFileSync('tar', ['--format=posix', '--sort=name', '-C', root, '-cf', archive, '.']);
  return archive;
}

async function layerOf(archive: string, keep: string[]) {
  const { indexed, copy } = await indexWithCopy(createReadStream(archive), work);
  const out = join(work, `layer-${Math.random().toString(36).slice(2)}.tar`);
  const read: string[] = [];
  const result = await writeLayerFile(
    {
      index: indexed.index,
      headers: indexed.headers,
      content: (path) => (read.push(path), copy.range(path)),
    },
    keep,
    out,
    { clampMtime: new Date('2030-01-01') },
  );
  return { result, out, indexed, copy, read };
}

describe('planLayer and layerStream', () => {
  const archive = sourceArchive();
  const keep = ['/app', '/app/a.txt', '/app/0-hardlink', '/app/secret', '/app/data'];

  it('writes parents first, hardlinks after their targets, and only the kept paths', async () => {
    const { out, result } = await layerOf(archive, keep);
    expect(result.size).toBe(result.planned); // the size known before writing is the size written
    const listing = execFileSync('tar', ['-tvf', out]).toString().trim().split('\n');
    const names = listing.map((l) => l.split(/\s+/).slice(5).join(' '));
    // GNU tar stored app/0-hardlink (first by name) as the file and app/a.txt as the link to it
    expect(names).toEqual(['app/', 'app/0-hardlink', 'app/data/', 'app/secret', 'app/a.txt link to app/0-hardlink']);
    expect(listing[3]).toMatch(/^-{10} /);
  });

  it('reads the kept contents from the copy of the stream, and nothing that is not kept', async () => {
    const { indexed, copy, read, result } = await layerOf(archive, keep);
    expect(readFileSync(copy.file).equals(readFileSync(archive))).toBe(true);
    expect(read.sort()).toEqual(['/app/0-hardlink', '/app/secret']);
    const range = copy.range('/app/a.txt')!; // a hardlink reads as its target
    expect(readFileSync(copy.file).subarray(range.start, range.start + range.size).toString()).toBe('a\n');
    expect(await copy.readText('/app/secret')).toBe('no one may read this\n');
    expect(copy.range('/app/data')).toBeUndefined();
    expect(result.contentBytes).toBe(2 + 21);
    expect(indexed.bytes).toBe(2 + 21 + 10_000);
  });

  it('gives the same digest for the same input', async () => {
    const a = await layerOf(archive, keep);
    const b = await layerOf(archive, [...keep].reverse());
    expect(a.result.diffId).toBe(b.result.diffId);
  });
});
