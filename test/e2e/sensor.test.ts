// The sensor on the real engine: it needs nothing from the image (no shell, no libc), and the
// traced container gets SYS_PTRACE and nothing more (never privileged).
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, imageId, removeImages, removeTestContainers, slimify, testSession } from './support.js';

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
    const { result, hostConfig, entrypoint } = await watchTracedContainer({});
    expect(result.exitCode, result.stderr).toBe(0);
    expect(hostConfig.Privileged).toBe(false);
    expect(hostConfig.CapAdd).toEqual(['SYS_PTRACE']);
    const bindings = Object.values(hostConfig.PortBindings as Record<string, Array<{ HostIp: string }>>).flat();
    expect(bindings.length).toBeGreaterThan(0);
    for (const binding of bindings) expect(binding.HostIp).toBe('127.0.0.1');
    // this engine shares the machine's filesystem: the sensor comes from a temp dir, bound read-only
    const mounts = hostConfig.Mounts as Array<{ Type: string; Source: string; Target: string; ReadOnly: boolean }>;
    const sensor = mounts.find((m) => m.Target === '/.slimify-sensor');
    expect(sensor).toMatchObject({ Type: 'bind', ReadOnly: true });
    expect(sensor!.Source).toMatch(new RegExp(`^${tmpdir()}/slimify-[0-9a-f]{12}-\\d+-sensor-`));
    // the only writable mount: the trace files
    expect(mounts.filter((m) => !m.ReadOnly).map((m) => [m.Type, m.Target])).toEqual([['bind', '/.slimify-trace']]);
    // static-bin runs as root: traced with strace's seccomp filter (see seccompFilterFor)
    expect(entrypoint).toContain('--seccomp-bpf');
  }, 180_000);

  // a remote engine also gets the image read inside a container, which mounts the sensor volume too
  it('falls back to volumes filled through the archive API (SLIMIFY_SENSOR_MOUNT=volume, as for a remote engine)', async () => {
    const { result, hostConfig } = await watchTracedContainer({ SLIMIFY_SENSOR_MOUNT: 'volume', SLIMIFY_READ: 'container' });
    expect(result.exitCode, result.stderr).toBe(0);
    const mounts = hostConfig.Mounts as Array<{ Type: string; Target: string; ReadOnly: boolean }>;
    expect(mounts.map((m) => [m.Type, m.Target, Boolean(m.ReadOnly)])).toEqual([
      ['volume', '/.slimify-sensor', true],
      ['volume', '/.slimify-trace', false],
    ]);
    // the trace came back through the archive: the files the app used were kept
    const report = JSON.parse(result.stdout) as { kept: Record<string, string[]>; filesystem: { via: string } };
    expect(report.kept['/usr/local/bin/static-server']?.join(' ')).toMatch(/executed/);
    expect(report.filesystem.via).toBe('container');
    expect(await docker(['volume', 'ls', '-q', '--filter', 'label=slimify.owner=slimify'])).toBe('');
  }, 180_000);

  // a private mount namespace hides slimify's temp dir from the engine, as a socket forwarded from
  // another machine (or a CI job's container) would: the engine refuses the bind, slimify uploads
  it.skipIf(process.getuid?.() !== 0)('falls back to volumes when the engine cannot see its temp dir (needs root for unshare)', async () => {
    const hidden = join(work, 'hidden');
    mkdirSync(hidden);
    const cli = new URL('../../dist/cli/main.js', import.meta.url).pathname;
    const tag = `slimify-test/hidden.slim:${testSession}`;
    const result = await execa('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs tmpfs "$1" && exec node "$2" build slimify-fixtures/static-bin:latest --tag "$3" --verbose`, 'sh', hidden, cli, tag], {
      reject: false,
      all: true,
      env: { TMPDIR: hidden, CI: 'true' },
    });
    await removeImages(tag);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toMatch(/sensor: uploaded into volumes: the engine cannot bind-mount .*bind source path does not exist/);
    expect(result.all).toMatch(/verifying the slim image done .*passed/);
    expect(await docker(['volume', 'ls', '-q', '--filter', 'label=slimify.owner=slimify'])).toBe('');
  }, 180_000);

  it('gives an app that runs as another user a sensor it can run, whatever the umask', async () => {
    const tag = `slimify-test/umask.slim:${testSession}`;
    const cli = new URL('../../dist/cli/main.js', import.meta.url).pathname;
    const result = await execa('sh', ['-c', 'umask 077 && exec node "$1" build slimify-fixtures/non-root:latest --tag "$2" --json', 'sh', cli, tag], { reject: false, all: true, env: { CI: 'true' } });
    await removeImages(tag);
    expect(result.exitCode, result.all).toBe(0);
    const report = JSON.parse(result.stdout) as { verification: { passed: boolean } };
    expect(report.verification.passed).toBe(true);
  }, 180_000);

  // An app running as root leaves, in the bound trace dir, a dir of another user's that slimify
  // (here root without capabilities, like any non-root user) may not empty: the engine clears it.
  it.skipIf(process.getuid?.() !== 0)('leaves nothing behind when the app writes into the trace dir what slimify may not remove (needs root for setpriv)', async () => {
    const image = `slimify-test/trace-writer:${testSession}`;
    const context = join(work, 'trace-writer');
    mkdirSync(context);
    writeFileSync(join(context, 'Dockerfile'), 'FROM slimify-fixtures/base:bookworm\nCMD ["sh", "-c", "mkdir -p /.slimify-trace/evil && echo x > /.slimify-trace/evil/f && chown -R 1234:1234 /.slimify-trace/evil"]\n');
    await docker(['build', '-q', '--label', `slimify.test.session=${testSession}`, '-t', image, context]);
    const temp = join(work, 'trace-writer-tmp');
    mkdirSync(temp);
    const tag = `slimify-test/trace-writer.slim:${testSession}`;
    const cli = new URL('../../dist/cli/main.js', import.meta.url).pathname;
    const result = await execa('setpriv', ['--inh-caps=-all', '--bounding-set=-all', 'node', cli, 'build', image, '--tag', tag, '--verify=false', '--verbose'], {
      reject: false,
      all: true,
      env: { TMPDIR: temp, CI: 'true' },
    });
    await removeImages(tag, image);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toMatch(/EACCES.*clearing it through the engine/);
    expect(result.all).not.toMatch(/could not remove/);
    expect(readdirSync(temp)).toEqual([]);
    expect(await docker(['ps', '-aq', '--filter', 'label=slimify.owner=slimify'])).toBe('');
  }, 180_000);

  it.skipIf(process.getuid?.() !== 0)("slimify clean clears what a root app left in a killed build's trace dir (needs root for setpriv)", async () => {
    const temp = join(work, 'clean-tmp');
    const session = randomBytes(6).toString('hex');
    // pid 2^22 + 1 is above pid_max's largest value: the build that made it is gone
    const dir = join(temp, `slimify-${session}-4194305-sensor-Ab12Cd`);
    const evil = join(dir, 'traces', 'evil');
    mkdirSync(evil, { recursive: true });
    writeFileSync(join(evil, 'f'), 'x\n');
    chownSync(join(evil, 'f'), 1234, 1234);
    chownSync(evil, 1234, 1234);
    const cli = new URL('../../dist/cli/main.js', import.meta.url).pathname;
    const result = await execa('setpriv', ['--inh-caps=-all', '--bounding-set=-all', 'node', cli, 'clean', '--session', session], { reject: false, all: true, env: { TMPDIR: temp, CI: 'true' } });
    expect(result.exitCode, result.all).toBe(0);
    expect(result.stdout).toContain(`removed temp dir ${dir}`);
    expect(existsSync(dir)).toBe(false);
    expect(await docker(['ps', '-aq', '--filter', `label=slimify.session=${session}`])).toBe('');
  }, 120_000);

  it('refuses an unknown SLIMIFY_SENSOR_MOUNT', async () => {
    const result = await slimify(['build', 'slimify-fixtures/static-bin:latest', '--tag', `slimify-test/never.slim:${testSession}`], { env: { SLIMIFY_SENSOR_MOUNT: 'nfs' } });
    expect(result.exitCode).toBe(2);
    expect(result.all).toMatch(/SLIMIFY_SENSOR_MOUNT is "nfs": expected auto, bind or volume/);
    expect(await imageId(`slimify-test/never.slim:${testSession}`)).toBeUndefined();
  }, 60_000);
});

/** Builds static-bin with its app held up for 8 s and inspects the traced container meanwhile. */
async function watchTracedContainer(env: Record<string, string>): Promise<{ result: { exitCode?: number; stdout: string; stderr: string }; hostConfig: Record<string, unknown>; entrypoint: string[] }> {
  const tag = `slimify-test/priv.slim:${testSession}`;
  const build = execa('node', [new URL('../../dist/cli/main.js', import.meta.url).pathname, 'build', 'slimify-fixtures/static-bin:latest', '--tag', tag, '--force', '--continue-after', '8', '--verify=false', '--json'], { reject: false, env: { ...env, CI: 'true' } });
  let hostConfig: Record<string, unknown> | undefined;
  let entrypoint: string[] = [];
  const deadline = Date.now() + 60_000;
  while (!hostConfig && Date.now() < deadline) {
    const ids = (await docker(['ps', '-q', '--filter', 'label=slimify.owner=slimify', '--filter', 'name=traced'])).split('\n').filter(Boolean);
    if (ids.length) {
      hostConfig = JSON.parse(await docker(['inspect', '--format', '{{json .HostConfig}}', ids[0]!])) as Record<string, unknown>;
      entrypoint = JSON.parse(await docker(['inspect', '--format', '{{json .Config.Entrypoint}}', ids[0]!])) as string[];
    } else await new Promise((r) => setTimeout(r, 200));
  }
  const result = await build;
  await removeImages(tag);
  expect(hostConfig, 'the traced container was never seen').toBeDefined();
  return { result, hostConfig: hostConfig!, entrypoint };
}
