// The slim layer is written from the index: parents before children, hardlinks after their
// targets, modes kept even when they are 0, contents from the spool, the same bytes every time.
import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileSpool, spoolCandidates, underAny } from '../../../src/assemble/file-spool.js';
import { indexFilesystem } from '../../../src/assemble/index-filesystem.js';
import { writeLayer } from '../../../src/assemble/write-layer.js';

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

async function layerOf(archive: string, keep: string[], wanted: (p: string) => boolean) {
  const spool = new FileSpool(mkdtempSync(join(work, 'spool-')), wanted);
  const indexed = await indexFilesystem(createReadStream(archive), { spool });
  const out = join(work, `layer-${Math.random().toString(36).slice(2)}.tar`);
  const fetched: string[] = [];
  const result = await writeLayer(
    {
      index: indexed.index,
      headers: indexed.headers,
      content: async (path) => spool.get(path) ?? (fetched.push(path), undefined),
    },
    keep,
    out,
    { clampMtime: new Date('2030-01-01') },
  );
  return { result, out, indexed, fetched };
}

describe('writeLayer', () => {
  const archive = sourceArchive();
  const keep = ['/app', '/app/a.txt', '/app/0-hardlink', '/app/secret', '/app/data'];

  it('writes parents first, hardlinks after their targets, and only the kept paths', async () => {
    const { out } = await layerOf(archive, keep, () => true);
    const listing = execFileSync('tar', ['-tvf', out]).toString().trim().split('\n');
    const names = listing.map((l) => l.split(/\s+/).slice(5).join(' '));
    // GNU tar stored app/0-hardlink (first by name) as the file and app/a.txt as the link to it
    expect(names).toEqual(['app', 'app/0-hardlink', 'app/data', 'app/secret', 'app/a.txt link to app/0-hardlink']);
    expect(listing[3]).toMatch(/^-{10} /);
  });

  it('copies only spooled contents and never reads what is not kept', async () => {
    const { indexed, fetched } = await layerOf(archive, keep, (p) => p !== '/app/unused');
    expect(indexed.spooledBytes).toBe(indexed.bytes - 10_000);
    expect(fetched).toEqual([]);
  });

  it('gives the same digest for the same input', async () => {
    const a = await layerOf(archive, keep, () => true);
    const b = await layerOf(archive, [...keep].reverse(), () => true);
    expect(a.result.diffId).toBe(b.result.diffId);
  });
});

describe('spoolCandidates', () => {
  it('adds the other side of the usrmerge root links', () => {
    const set = spoolCandidates(['/lib/x86_64-linux-gnu/libc.so.6', '/usr/bin/dash', '/etc/passwd']);
    expect([...set].sort()).toEqual(['/bin/dash', '/etc/passwd', '/lib/x86_64-linux-gnu/libc.so.6', '/usr/bin/dash', '/usr/lib/x86_64-linux-gnu/libc.so.6']);
  });
});

describe('underAny', () => {
  it('matches a tree and everything under it, not its namesakes', () => {
    const inTrees = underAny(['/etc/ssl', '/usr/share/ca-certificates/', '/etc/passwd']);
    expect(['/etc/ssl', '/etc/ssl/certs/ca-certificates.crt', '/usr/share/ca-certificates/mozilla/x.crt', '/etc/passwd'].every(inTrees)).toBe(true);
    expect(['/etc/ssl-other', '/etc/passwd-', '/usr/share/ca'].some(inTrees)).toBe(false);
  });
});
