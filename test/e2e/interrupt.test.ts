// Ctrl-C in the middle of the traced run, or the traced container killed from outside: slimify
// removes the run's containers, volumes and temp dirs, exits with its documented code, and the
// original image is untouched.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { imageId, removeImages, removeTestContainers } from './support.js';
import { NOTHING, leftoversOf, startSlimify, testTag, waitForOutput } from './robustness-support.js';

const STATIC = 'slimify-fixtures/static-bin:latest';

afterAll(async () => {
  await removeTestContainers();
});

async function interruptWhileTracing(signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP', env: Record<string, string> = {}, containers = 1) {
  const tag = testTag('interrupted');
  const before = await imageId(STATIC);
  const child = startSlimify(['build', STATIC, '--tag', tag, '--continue-after', '60'], env);
  await waitForOutput(child, 'tracing the app');
  // wait until the traced container really exists, so there is something to clean up
  while ((await leftoversOf(child.pid!)).containers.length < containers) await new Promise((resolve) => setTimeout(resolve, 200));
  const started = Date.now();
  child.kill(signal);
  const result = await child;
  await removeImages(tag);
  return { result, ms: Date.now() - started, before, pid: child.pid!, tag };
}

describe('interrupting slimify build during the traced run', () => {
  it('on SIGINT removes everything of the session, exits 130 and leaves the original unchanged', async () => {
    const { result, ms, before, pid, tag } = await interruptWhileTracing('SIGINT');
    expect(result.exitCode, result.all).toBe(130);
    expect(result.all).toContain('interrupted, cleaning up (press Ctrl-C again to force)');
    expect(ms).toBeLessThan(20_000);
    expect(await leftoversOf(pid)).toEqual(NOTHING);
    expect(await imageId(STATIC)).toBe(before);
    expect(await imageId(tag)).toBeUndefined();
  });

  it('on SIGTERM does the same and exits 143', async () => {
    const { result, pid } = await interruptWhileTracing('SIGTERM');
    expect(result.exitCode, result.all).toBe(143);
    expect(await leftoversOf(pid)).toEqual(NOTHING);
  });

  // the container slimify reads the image in, with its file server, goes too
  it('on SIGINT while reading the image inside a container does the same', async () => {
    const { result, pid, before } = await interruptWhileTracing('SIGINT', { SLIMIFY_READ: 'container' }, 2);
    expect(result.exitCode, result.all).toBe(130);
    expect(await leftoversOf(pid)).toEqual(NOTHING);
    expect(await imageId(STATIC)).toBe(before);
  });

  it('when the terminal goes away (SIGHUP) does the same and exits 129', async () => {
    const { result, pid } = await interruptWhileTracing('SIGHUP');
    expect(result.exitCode, result.all).toBe(129);
    expect(await leftoversOf(pid)).toEqual(NOTHING);
  });
});

describe('the reader of slimify\'s output going away (`slimify build ... | head -1`)', () => {
  it('cleans up and exits 141 instead of dying on EPIPE with containers and temp dirs left', async () => {
    const tag = testTag('pipe-closed');
    const child = startSlimify(['build', STATIC, '--tag', tag, '--continue-after', '3']);
    await waitForOutput(child, 'tracing the app');
    // close our ends of its stdout and stderr: its next line hits a closed pipe
    child.stdout!.destroy();
    child.stderr!.destroy();
    const result = await child;
    await removeImages(tag);
    expect(result.exitCode).toBe(141);
    expect(await leftoversOf(child.pid!)).toEqual(NOTHING);
    expect(await imageId(tag)).toBeUndefined();
  });
});

describe('a traced container killed from outside in the middle of a probe', () => {
  it('ends the build cleanly with the target-failed code, and leaves nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'slimify-kill-test-'));
    const script = join(dir, 'slow-probe.sh');
    writeFileSync(script, '#!/bin/sh\nsleep 20\n', { mode: 0o755 });
    const tag = testTag('killed');
    const before = await imageId(STATIC);
    try {
      const child = startSlimify(['build', STATIC, '--tag', tag, '--probe-script', script]);
      await waitForOutput(child, 'tracing the app');
      let traced: string[] = [];
      while (traced.length === 0) {
        traced = (await leftoversOf(child.pid!)).containers.filter((name) => name.endsWith('-traced'));
        if (traced.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await new Promise((resolve) => setTimeout(resolve, 1000)); // the probe script is running now
      await execa('docker', ['kill', traced[0]!]);
      const result = await child;
      expect(result.exitCode, result.all).toBe(7);
      expect(result.all).toMatch(/crashed|exited/);
      expect(await leftoversOf(child.pid!)).toEqual(NOTHING);
      expect(await imageId(STATIC)).toBe(before);
      expect(await imageId(tag)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await removeImages(tag);
    }
  }, 120_000);
});
