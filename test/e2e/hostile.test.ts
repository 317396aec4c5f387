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
import { bytePack } from '../../src/assemble/byte-tar.js';
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
  const pack = bytePack();
  const dir = (name: string) => pack.entry({ name, type: 'directory', mode: 0o755, mtime: new Date(0) });
  const file = (name: string, content: string) => pack.entry({ name, mode: 0o644, mtime: new Date(0), pax: /[^\x00-\x7f]/.test(name) || name.length > 100 ? {} : undefined }, content);
  dir('odd');
  file(ODD, 'odd name\n');
  for (let i = 0; i <= DEEP.split('/').length - 2; i++) dir(DEEP.split('/').slice(0, i + 1).join('/'));
  file(DEEP, 'deep\n');
  pack.entry({ name: 'fifo', type: 'fifo', mode: 0o644, mtime: new Date(0) });
  pack.entry({ name: 'shadow-link', type: 'symlink', linkname: '/etc/shadow', mode: 0o777, mtime: new Date(0) });
  file('../escape', 'escaped\n');
  file('/absolute-name', 'absolute\n');
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
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
