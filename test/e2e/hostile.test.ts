// A hostile image: tar entries that escape the root (../, absolute names; docker import itself
// refuses hardlinks that leave the root, so those are covered by the unit tests only),
// a non-UTF-8 name, a path deeper than 255 bytes, a FIFO, a symlink to the host's /etc/shadow.
// slimify builds it without writing anything outside its own temp dirs (a canary TMPDIR stays
// empty), and the odd names the app used survive into the slim image byte for byte.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import type { Header } from 'tar-stream';
import { blockPadding } from '../../src/assemble/pax-records.js';
import { END_OF_ARCHIVE, headerBlocks } from '../../src/assemble/tar-header.js';
import { imageId, removeImages, removeTestContainers, testLabels } from './support.js';
import { NOTHING, buildImage, leftoversOf, startSlimify, testTag } from './robustness-support.js';

const ODD = Buffer.from('odd/caf\xe9-\xff.txt', 'latin1').toString('latin1');
const DEEP = `deep/${Array.from({ length: 10 }, (_, i) => `level-${i}-${'x'.repeat(24)}`).join('/')}/leaf.txt`;
const work = mkdtempSync(join(tmpdir(), 'slimify-hostile-test-'));
const tree = testTag('hostile-tree');
const image = testTag('hostile');
const slim = testTag('hostile-slim');

afterAll(async () => {
  await removeTestContainers();
  await removeImages(slim, image, tree);
  rmSync(work, { recursive: true, force: true });
});

async function hostileTar(): Promise<Buffer> {
  const parts: Buffer[] = [];
  const entry = (header: Partial<Header> & Pick<Header, 'name'>, content = '') => {
    const body = Buffer.from(content);
    parts.push(headerBlocks({ type: 'file', mode: 0o644, uid: 0, gid: 0, size: body.length, mtime: new Date(0), linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0, ...header }), body, blockPadding(body.length));
  };
  const dir = (name: string) => entry({ name, type: 'directory', mode: 0o755 });
  const file = (name: string, content: string) => entry({ name }, content);
  dir('odd');
  file(ODD, 'odd name\n');
  for (let i = 0; i <= DEEP.split('/').length - 2; i++) dir(DEEP.split('/').slice(0, i + 1).join('/'));
  file(DEEP, 'deep\n');
  entry({ name: 'fifo', type: 'fifo' });
  entry({ name: 'shadow-link', type: 'symlink', linkname: '/etc/shadow', mode: 0o777 });
  file('../escape', 'escaped\n');
  file('/absolute-name', 'absolute\n');
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

describe('a hostile image', () => {
  it('builds, writes nothing outside slimify temp dirs, and keeps odd names byte for byte', async () => {
    // docker import refuses or sanitises what escapes; whatever it keeps is what slimify must handle
    const imported = await execa('docker', ['import', '-', tree], { input: await hostileTar(), reject: false });
    expect(imported.exitCode, imported.stderr).toBe(0);
    await buildImage(image, [
      'FROM slimify-fixtures/base:bookworm',
      `COPY --from=${tree} / /`,
      `CMD ["/bin/sh", "-c", "cat /odd/* /deep/*/*/*/*/*/*/*/*/*/*/leaf.txt; test -p /fifo && echo fifo; readlink /shadow-link"]`,
    ].join('\n'));
    const before = await imageId(image);
    const canary = join(work, 'canary');
    mkdirSync(join(canary, 'tmp'), { recursive: true });
    const child = startSlimify(['build', image, '--tag', slim, '--continue-after', 'exit'], { TMPDIR: join(canary, 'tmp') });
    const result = await child;
    expect(result.exitCode, result.all).toBe(0);
    expect(readdirSync(canary)).toEqual(['tmp']);
    expect(readdirSync(join(canary, 'tmp'))).toEqual([]);
    expect(await leftoversOf(child.pid!, join(canary, 'tmp'))).toEqual(NOTHING);
    expect(await imageId(image)).toBe(before);

    const container = (await execa('docker', ['create', ...testLabels, slim, '/none'])).stdout.trim();
    const exported = await execa('docker', ['export', container], { encoding: 'buffer' });
    const listing = await execa('tar', ['--quoting-style=literal', '-tv'], { input: exported.stdout as unknown as Buffer, encoding: 'buffer' });
    const names = Buffer.from(listing.stdout as unknown as Uint8Array).toString('latin1');
    expect(names).toContain(ODD);
    expect(names).toContain(DEEP);
    expect(names).toContain('shadow-link -> /etc/shadow');
    expect(names).not.toContain('escape');
  });
});
