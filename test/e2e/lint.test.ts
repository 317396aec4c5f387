// lint --image: findings only the built image shows (caches left in layers, files deleted in a
// later layer), placed on the Dockerfile line that made the layer.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerLint } from '../../src/cli/lint-command.js';
import { runInProcess } from './support.js';
import { SlimifyError } from '../../src/errors.js';

const IMAGE = `slimify-test-lint-${process.pid}-${randomBytes(3).toString('hex')}:latest`;
const work = mkdtempSync(join(tmpdir(), 'slimify-lint-'));
const dockerfile = join(work, 'Dockerfile');

// no network in builds here: the "apt-get update" leaves a list written by hand
const DOCKERFILE = [
  'FROM slimify-fixtures/base:bookworm',
  'RUN mkdir -p /var/lib/apt/lists && head -c 120000 /dev/urandom > /var/lib/apt/lists/deb.example_InRelease',
  'COPY payload.bin /tmp/payload.bin',
  'RUN rm /tmp/payload.bin',
  'CMD ["true"]',
  '',
].join('\n');

beforeAll(async () => {
  writeFileSync(dockerfile, DOCKERFILE);
  writeFileSync(join(work, 'payload.bin'), randomBytes(400_000));
  await execa('docker', ['build', '--force-rm', '-q', '-t', IMAGE, work], { env: { DOCKER_BUILDKIT: '0' } });
});

afterAll(async () => {
  await execa('docker', ['rmi', '-f', IMAGE], { reject: false });
  rmSync(work, { recursive: true, force: true });
});

describe('slimify lint --image', () => {
  it('adds the caches and late deletions the built image shows, on the lines that made them', async () => {
    const { stdout, error } = await runInProcess(registerLint, ['lint', dockerfile, '--image', IMAGE, '--format', 'json']);
    if (!stdout) throw error;
    const findings = JSON.parse(stdout) as Array<{ code: string; line: number; message: string }>;
    const codes = findings.map((f) => `${f.code}:${f.line}`);
    expect(codes).toContain('SL2001:2');
    expect(codes).toContain('SL2002:4');
    expect(codes).toContain('SL1009:4');
    expect(findings.find((f) => f.code === 'SL2002')?.message).toMatch(/deletes 400\.0 kB in 1 files \(e\.g\. \/tmp\/payload\.bin\) that layer \d+ \(line 3\) added/);
    expect(findings.find((f) => f.code === 'SL2001')?.message).toMatch(/apt package lists: 120\.0 kB/);
    expect((error as SlimifyError).exitCode).toBe(6);
  });

  it('passes with a threshold above what was found', async () => {
    const { error } = await runInProcess(registerLint, ['lint', dockerfile, '--failure-threshold', 'error', '--ignore', 'SL1009']);
    expect(error).toBeUndefined();
  });
});
