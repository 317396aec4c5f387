// The sensor on the real engine: it needs nothing from the image (no shell, no libc), and the
// traced container gets SYS_PTRACE and nothing more (never privileged).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, removeImages, removeTestContainers, slimify, testSession } from './support.js';

const work = mkdtempSync(join(tmpdir(), 'slimify-sensor-test-'));
const scratchImage = `slimify-test/scratch-static:${testSession}`;
const slimTag = `slimify-test/scratch-static.slim:${testSession}`;

beforeAll(async () => {
  // An image holding one static binary and nothing else: no shell, no libc, no /etc.
  const id = (await docker(['create', '--label', `slimify.test.session=${testSession}`, 'slimify-fixtures/static-bin:latest'])).trim();
  try {
    await docker(['cp', `${id}:/usr/local/bin/static-server`, join(work, 'static-server')]);
  } finally {
    await docker(['rm', '-f', id]);
  }
  await execa('tar', ['-C', work, '-cf', join(work, 'rootfs.tar'), 'static-server']);
  await docker(['import', '-c', 'EXPOSE 8080', '-c', 'CMD ["/static-server"]', join(work, 'rootfs.tar'), scratchImage]);
});

afterAll(async () => {
  await removeTestContainers();
  await removeImages(slimTag, scratchImage);
  rmSync(work, { recursive: true, force: true });
});

describe('the sensor', () => {
  it('traces an app in an image with no shell and no libc', async () => {
    const result = await slimify(['build', scratchImage, '--tag', slimTag, '--json']);
    expect(result.exitCode, result.all).toBe(0);
    const report = JSON.parse(result.stdout) as { kept: Record<string, string[]>; verification: { passed: boolean }; probes: Array<{ ok: boolean }> };
    expect(Object.keys(report.kept)).toContain('/static-server');
    expect(report.kept['/static-server']!.join(' ')).toMatch(/executed/);
    expect(report.probes.every((p) => p.ok)).toBe(true);
    expect(report.verification.passed).toBe(true);
  }, 180_000);

  it('runs the traced container with SYS_PTRACE only, never privileged, ports on 127.0.0.1', async () => {
    const build = execa('node', [new URL('../../dist/cli/main.js', import.meta.url).pathname, 'build', 'slimify-fixtures/static-bin:latest', '--tag', `slimify-test/priv.slim:${testSession}`, '--continue-after', '8', '--verify=false'], { reject: false, env: { CI: 'true' } });
    let inspected: Record<string, unknown> | undefined;
    let entrypoint: string[] = [];
    const deadline = Date.now() + 60_000;
    while (!inspected && Date.now() < deadline) {
      const ids = (await docker(['ps', '-q', '--filter', 'label=slimify.owner=slimify', '--filter', 'name=traced'])).split('\n').filter(Boolean);
      if (ids.length) {
        inspected = JSON.parse(await docker(['inspect', '--format', '{{json .HostConfig}}', ids[0]!])) as Record<string, unknown>;
        entrypoint = JSON.parse(await docker(['inspect', '--format', '{{json .Config.Entrypoint}}', ids[0]!])) as string[];
      } else await new Promise((r) => setTimeout(r, 200));
    }
    const result = await build;
    await removeImages(`slimify-test/priv.slim:${testSession}`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(inspected).toBeDefined();
    expect(inspected!.Privileged).toBe(false);
    expect(inspected!.CapAdd).toEqual(['SYS_PTRACE']);
    const bindings = Object.values(inspected!.PortBindings as Record<string, Array<{ HostIp: string }>>).flat();
    expect(bindings.length).toBeGreaterThan(0);
    for (const binding of bindings) expect(binding.HostIp).toBe('127.0.0.1');
    const mounts = inspected!.Mounts as Array<{ Target: string; ReadOnly: boolean }>;
    expect(mounts.find((m) => m.Target === '/.slimify-sensor')?.ReadOnly).toBe(true);
    // the only writable mount: the trace files
    expect(mounts.filter((m) => !m.ReadOnly).map((m) => m.Target)).toEqual(['/.slimify-trace']);
    // static-bin runs as root: traced with strace's seccomp filter (see seccompFilterFor)
    expect(entrypoint).toContain('--seccomp-bpf');
  }, 180_000);
});
