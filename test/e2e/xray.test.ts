// xray against the real engine: an image built here with known waste must give the figures
// computed by hand below, through the engine and through a `docker save` file alike.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerXray } from '../../src/cli/xray-command.js';
import { runInProcess } from './support.js';
import { SlimifyError } from '../../src/errors.js';
import { xrayArchive, xrayImage } from '../../src/xray/xray.js';
import type { XrayReport } from '../../src/xray/xray-report.js';

const BASE = 'slimify-fixtures/base:bookworm';
const tag = `slimify-test-xray-${process.pid}-${randomBytes(3).toString('hex')}`;
const WASTEFUL = `${tag}:wasteful`;
const FIXED = `${tag}:fixed`;
const work = mkdtempSync(join(tmpdir(), 'slimify-xray-'));

// what the user layers hold, in bytes
const BIG = 1_000_000; // added, then deleted by a later RUN
const OVER_1 = 300_000; // overwritten later by OVER_2
const OVER_2 = 200_000;
const DUP = 50_000; // the same content at two paths
const APT_LIST = 80_000; // an apt list left behind

function write(name: string, size: number, content?: Buffer): void {
  writeFileSync(join(work, name), content ?? randomBytes(size));
}

async function build(name: string, dockerfile: string): Promise<void> {
  writeFileSync(join(work, `${name}.Dockerfile`), dockerfile);
  await execa('docker', ['build', '--force-rm', '-q', '-t', name === 'wasteful' ? WASTEFUL : FIXED, '-f', join(work, `${name}.Dockerfile`), work], {
    env: { DOCKER_BUILDKIT: '0' },
  });
}

let base: XrayReport;
let wasteful: XrayReport;

beforeAll(async () => {
  write('big.bin', BIG);
  write('over1.bin', OVER_1);
  write('over2.bin', OVER_2);
  const dup = randomBytes(DUP);
  write('dup-a.bin', DUP, dup);
  write('dup-b.bin', DUP, dup);
  write('InRelease', APT_LIST);
  await build(
    'wasteful',
    [
      `FROM ${BASE}`,
      'COPY big.bin /data/big.bin',
      'COPY over1.bin /data/over.bin',
      'RUN rm /data/big.bin',
      'COPY over2.bin /data/over.bin',
      'COPY dup-a.bin dup-b.bin /dup/',
      'COPY InRelease /var/lib/apt/lists/xray-test_InRelease',
      '',
    ].join('\n'),
  );
  await build('fixed', [`FROM ${BASE}`, 'COPY over2.bin /data/over.bin', 'COPY dup-a.bin /dup/', ''].join('\n'));
  base = await xrayImage(BASE);
  wasteful = await xrayImage(WASTEFUL);
});

afterAll(async () => {
  await execa('docker', ['rmi', '-f', WASTEFUL, FIXED], { reject: false });
  rmSync(work, { recursive: true, force: true });
});

describe('slimify xray on the engine', () => {
  it('lists one layer per filesystem change, with the instruction that made it', () => {
    const user = wasteful.layers.slice(base.layers.length);
    expect(user.map((l) => l.createdBy)).toEqual([
      expect.stringMatching(/^COPY file:\w+ in \/data\/big.bin/),
      expect.stringMatching(/^COPY file:\w+ in \/data\/over.bin/),
      'RUN rm /data/big.bin',
      expect.stringMatching(/^COPY file:\w+ in \/data\/over.bin/),
      expect.stringMatching(/^COPY multi:\w+ in \/dup\//),
      expect.stringMatching(/^COPY file:\w+ in \/var\/lib\/apt\/lists\/xray-test_InRelease/),
    ]);
    expect(user.map((l) => l.sizeBytes)).toEqual([BIG, OVER_1, 0, OVER_2, 2 * DUP, APT_LIST]);
    expect(user[2]!.deleted).toEqual({ count: 1, bytes: BIG });
    expect(user[3]!.changed).toEqual({ count: 1, bytes: OVER_2 });
  });

  it("matches dive's efficiency and wasted bytes computed by hand", () => {
    const userBytes = BIG + OVER_1 + OVER_2 + 2 * DUP + APT_LIST;
    const size = base.dive.sizeBytes + userBytes;
    // seen in two layers: big.bin (BIG, then a 0-byte whiteout) and over.bin (both copies)
    const wasted = BIG + OVER_1 + OVER_2;
    // each path's smallest copy: big.bin 0, over.bin OVER_2
    const minimum = size - BIG - OVER_1;
    expect(wasteful.dive.sizeBytes).toBe(size);
    expect(wasteful.dive.wastedBytes).toBe(base.dive.wastedBytes + wasted);
    expect(wasteful.dive.userSizeBytes).toBe(userBytes);
    expect(wasteful.dive.userWastedPercent).toBeCloseTo(wasted / userBytes, 10);
    expect(wasteful.dive.efficiency).toBeCloseTo(minimum / size, 10);
  });

  it('reports the bytes really reclaimable apart from dive figures', () => {
    expect(wasteful.reclaimable.hiddenBytes).toBe(BIG + OVER_1);
    expect(wasteful.reclaimable.duplicateBytes).toBe(base.reclaimable.duplicateBytes + DUP);
    expect(wasteful.reclaimable.cacheBytes).toBe(base.reclaimable.cacheBytes + APT_LIST);
    expect(wasteful.deletedLater[0]).toMatchObject({ path: '/data/big.bin', size: BIG, how: 'deleted' });
    expect(wasteful.overwritten[0]).toMatchObject({ path: '/data/over.bin', size: OVER_1 });
    expect(wasteful.duplicates.find((d) => d.paths.includes('/dup/dup-a.bin'))?.paths).toEqual(['/dup/dup-a.bin', '/dup/dup-b.bin']);
  });

  it('gives the same report from a `docker save` file as from the engine', async () => {
    const file = join(work, 'wasteful.tar');
    await execa('docker', ['save', '-o', file, WASTEFUL]);
    const fromFile = await xrayArchive(file);
    expect({ ...fromFile, image: undefined }).toEqual({ ...wasteful, image: undefined });
  });
});

describe('slimify xray --ci', () => {
  it('fails the wasteful image on dive default rules, with exit code 6', async () => {
    const { stdout, error } = await runInProcess(registerXray, ['xray', WASTEFUL, '--ci']);
    expect(error).toBeInstanceOf(SlimifyError);
    expect((error as SlimifyError).exitCode).toBe(6);
    expect((error as SlimifyError).details.join('\n')).toMatch(/user wasted/);
    expect(stdout).toMatch(/FAIL\s+user wasted/);
  });

  it('passes its fixed version', async () => {
    const { stdout, error } = await runInProcess(registerXray, ['xray', FIXED, '--ci', '--highest-wasted-bytes', `${base.dive.wastedBytes}B`]);
    expect(error).toBeUndefined();
    expect(stdout).toMatch(/PASSED/);
  });

  it('prints JSON with the CI verdict for machines', async () => {
    const { stdout } = await runInProcess(registerXray, ['xray', FIXED, '--ci', '--json']);
    const parsed = JSON.parse(stdout) as XrayReport & { ci: Array<{ rule: string; status: string }> };
    expect(parsed.ci.map((r) => r.status)).toEqual(['pass', 'disabled', 'pass']);
    expect(parsed.dive.efficiency).toBe(base.dive.efficiency);
  });
});
