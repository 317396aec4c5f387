// Probe scripts: what they find in their environment, and how their exit and output are kept.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkScript, runScript, scriptEnvironment } from '../../../src/probes/probe-script.js';

const work = mkdtempSync(join(tmpdir(), 'slimify-probe-script-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('scriptEnvironment', () => {
  it('gives the host, one SLIMIFY_PORT_<N> per exposed port, the first port and URL, and the container', () => {
    expect(scriptEnvironment(new Map([[9000, 40001], [80, 40002]]), 'abc123')).toEqual({
      SLIMIFY_TARGET_HOST: '127.0.0.1',
      SLIMIFY_CONTAINER_ID: 'abc123',
      SLIMIFY_PORT_80: '40002',
      SLIMIFY_PORT_9000: '40001',
      SLIMIFY_TARGET_PORT: '40002',
      SLIMIFY_TARGET_URL: 'http://127.0.0.1:40002',
    });
  });

  it('has no target port or URL when the image exposes none', () => {
    expect(scriptEnvironment(new Map(), 'abc')).toEqual({ SLIMIFY_TARGET_HOST: '127.0.0.1', SLIMIFY_CONTAINER_ID: 'abc' });
  });
});

describe('probe scripts', () => {
  it('must exist and be executable', async () => {
    const script = join(work, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\n', { mode: 0o644 });
    await expect(checkScript(script)).rejects.toThrow(`probe script ${script} is not executable (chmod +x it)`);
    await expect(checkScript(work)).rejects.toThrow(`probe script ${work} not a file`);
  });

  it('report their exit code and their stdout and stderr together', async () => {
    const script = join(work, 'fails.sh');
    writeFileSync(script, '#!/bin/sh\necho "checking $SLIMIFY_TARGET_URL"\necho "no answer" >&2\nexit 3\n', { mode: 0o755 });
    expect(await runScript(await checkScript(script), { SLIMIFY_TARGET_URL: 'http://127.0.0.1:1' }, 5000)).toEqual({ exitCode: 3, output: 'checking http://127.0.0.1:1\nno answer' });
  });

  it('are stopped at their deadline and count as failed', async () => {
    const script = join(work, 'sleeps.sh');
    writeFileSync(script, '#!/bin/sh\necho started\nexec sleep 30\n', { mode: 0o755 });
    const result = await runScript(script, {}, 300);
    expect(result.exitCode).toBe(124);
    expect(result.output).toContain('(timed out after 0.3s)');
  });
});
