// Failures people can act on: each bad input or broken environment ends with the documented exit
// code (docs/exit-codes.md) and a message that says what to do; the original image is unchanged
// and the run leaves no container, volume or temp dir behind.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { docker, imageId, removeImages, removeTestContainers } from './support.js';
import { NOTHING, buildImage, leftoversOf, startSlimify, testTag, waitForOutput } from './robustness-support.js';
import { MEMORY_DIR } from '../../src/engine/session.js';

const STATIC = 'slimify-fixtures/static-bin:latest';
const BASE = 'slimify-fixtures/base:bookworm';
const work = mkdtempSync(join(tmpdir(), 'slimify-robustness-test-'));
const images: string[] = [];

afterAll(async () => {
  await removeTestContainers();
  await removeImages(...images);
  rmSync(work, { recursive: true, force: true });
});

/** Runs slimify; asserts afterwards that the process left nothing and the input is unchanged. */
async function run(args: string[], options: { env?: Record<string, string>; image?: string; temp?: string } = {}) {
  const before = options.image ? await imageId(options.image) : undefined;
  const child = startSlimify(args, options.env);
  const started = Date.now();
  const result = await child;
  const ms = Date.now() - started;
  expect(await leftoversOf(child.pid!, options.temp)).toEqual(NOTHING);
  if (options.image) expect(await imageId(options.image)).toBe(before);
  return { exitCode: result.exitCode, output: result.all ?? '', ms };
}

async function image(name: string, dockerfile: string): Promise<string> {
  const tag = testTag(name);
  images.push(tag);
  await buildImage(tag, dockerfile);
  return tag;
}

describe('no engine', () => {
  it('exits 3 at once when DOCKER_HOST is a unix socket nobody listens on', async () => {
    const r = await run(['build', STATIC], { env: { DOCKER_HOST: `unix://${join(work, 'dead.sock')}` } });
    expect(r.exitCode).toBe(3);
    expect(r.output).toContain(`cannot reach the Docker engine at unix://${join(work, 'dead.sock')}`);
    expect(r.output).toContain('point DOCKER_HOST at a running engine');
    expect(r.ms).toBeLessThan(10_000);
  });

  it('exits 3 at once when DOCKER_HOST is a closed TCP port', async () => {
    const r = await run(['build', STATIC], { env: { DOCKER_HOST: 'tcp://127.0.0.1:1' } });
    expect(r.exitCode).toBe(3);
    expect(r.output).toMatch(/cannot reach the Docker engine at tcp:\/\/127\.0\.0\.1:1 .*ECONNREFUSED/);
    expect(r.ms).toBeLessThan(10_000);
  });
});

describe('an engine that goes away in the middle of a build', () => {
  it('exits 3, and slimify clean removes what the run left once the engine answers again', async () => {
    const sockets = new Set<Socket>();
    const proxy = createServer((client) => {
      const upstream = connect('/var/run/docker.sock');
      sockets.add(client).add(upstream);
      client.pipe(upstream).pipe(client);
      const drop = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as { port: number }).port;
    const tag = testTag('never-written');
    const before = await imageId(STATIC);
    const child = startSlimify(['build', STATIC, '--tag', tag, '--continue-after', '60'], { DOCKER_HOST: `tcp://127.0.0.1:${port}` });
    await waitForOutput(child, 'tracing the app');
    while ((await leftoversOf(child.pid!)).containers.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    proxy.close();
    for (const socket of sockets) socket.destroy();
    const result = await child;
    expect(result.exitCode, result.all).toBe(3);
    expect(result.all).toContain(`cannot reach the Docker engine at tcp://127.0.0.1:${port}`);
    expect(result.all).toContain('slimify clean');

    const left = await leftoversOf(child.pid!);
    expect(left.containers.length).toBeGreaterThan(0);
    const session = /^slimify-([0-9a-f]{12})-/.exec(left.containers[0]!)![1]!;
    const dry = await startSlimify(['clean', '--session', session, '--dry-run']);
    expect(dry.exitCode).toBe(0);
    expect(dry.stdout).toContain(`would remove container ${left.containers[0]} (session ${session})`);
    expect(await leftoversOf(child.pid!)).toEqual(left);

    const clean = await startSlimify(['clean', '--session', session]);
    expect(clean.exitCode, clean.all).toBe(0);
    for (const name of [...left.containers, ...left.volumes]) expect(clean.stdout).toContain(name);
    expect(await leftoversOf(child.pid!)).toEqual(NOTHING);
    expect(await imageId(STATIC)).toBe(before);
    expect(await imageId(tag)).toBeUndefined();
  });
});

describe('slimify clean', () => {
  it('removes the temp dirs a dead run left in TMPDIR and in shared memory, and only those of its session', async () => {
    const session = randomBytes(6).toString('hex');
    const other = randomBytes(6).toString('hex');
    // pid 2^22 + 1 is above pid_max's largest value: no such process runs
    const dead = 4194305;
    // suffixes as mkdtemp makes them: six letters and digits, either case
    const left = [join(tmpdir(), `slimify-${session}-${dead}-export-aQ3zZk`), join(MEMORY_DIR, `slimify-${session}-${dead}-sensor-B0bbbB`)];
    const kept = join(MEMORY_DIR, `slimify-${other}-${dead}-export-cccccc`);
    for (const dir of [...left, kept]) mkdirSync(dir);
    try {
      const clean = await startSlimify(['clean', '--session', session]);
      expect(clean.exitCode, clean.all).toBe(0);
      for (const dir of left) {
        expect(clean.stdout).toContain(dir);
        expect(existsSync(dir)).toBe(false);
      }
      expect(existsSync(kept)).toBe(true);
    } finally {
      for (const dir of [...left, kept]) rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bad image references', () => {
  it('exits 4 for an image the engine does not have', async () => {
    const r = await run(['build', 'slimify-test/does-not-exist:nope']);
    expect(r.exitCode).toBe(4);
    expect(r.output).toContain('image slimify-test/does-not-exist:nope not found in the engine');
    expect(r.output).toContain('--pull');
  });

  it('exits 2 for a malformed reference', async () => {
    const r = await run(['build', 'Not/A Valid:ref']);
    expect(r.exitCode).toBe(2);
    expect(r.output).toContain('is not a valid image reference');
  });

  it('exits 2 for an image of another architecture, naming both', async () => {
    const tag = testTag('arm64');
    images.push(tag);
    await loadForeignImage(tag, 'arm64');
    const r = await run(['build', tag], { image: tag });
    expect(r.exitCode).toBe(2);
    expect(r.output).toMatch(/is for arm64, but the sensor .* is for amd64/);
  });
});

describe('output tags', () => {
  it('exits 8 when the output tag exists and --force is not given', async () => {
    const r = await run(['build', STATIC, '--tag', BASE], { image: BASE });
    expect(r.exitCode).toBe(8);
    expect(r.output).toContain(`the output tag ${BASE} already exists: pass --force to replace it`);
  });

  it('--force replaces the image under the output tag only once the new one is loaded', async () => {
    const tag = await image('replaced', `FROM ${STATIC}\nLABEL slimify.test.old=1\n`);
    const old = await imageId(tag);
    // a build that fails leaves the old image where it was
    const failed = await run(['build', STATIC, '--tag', tag, '--force', '--exec', '/nonexistent']);
    expect(failed.exitCode, failed.output).toBe(5);
    expect(await imageId(tag)).toBe(old);
    const r = await run(['build', STATIC, '--tag', tag, '--force', '--verify', 'false']);
    expect(r.exitCode, r.output).toBe(0);
    const now = await imageId(tag);
    expect(now).toBeDefined();
    expect(now).not.toBe(old);
    // untagged and unused, the old image is gone
    expect(await imageId(old!)).toBeUndefined();
  });

  it('exits 2 when the output tag is the input', async () => {
    const r = await run(['build', STATIC, '--tag', STATIC], { image: STATIC });
    expect(r.exitCode).toBe(2);
    expect(r.output).toContain('is the input image itself');
  });

  it('exits 2 for an image slimify already slimmed, and says so', async () => {
    const tag = await image('already-slim', `FROM ${STATIC}\nLABEL slimify.version=0.1.0 slimify.source.image=${STATIC}\n`);
    const r = await run(['build', tag], { image: tag });
    expect(r.exitCode).toBe(2);
    expect(r.output).toContain(`was already made by slimify 0.1.0 (from ${STATIC}); slim the original instead`);
  });
});

describe('probe scripts', () => {
  it('exits 2 when a probe script does not exist', async () => {
    const r = await run(['build', STATIC, '--probe-script', join(work, 'missing.sh')]);
    expect(r.exitCode).toBe(2);
    expect(r.output).toContain(`probe script ${join(work, 'missing.sh')} does not exist`);
  });

  it('exits 2 when a probe script is not executable', async () => {
    const script = join(work, 'not-executable.sh');
    writeFileSync(script, '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const r = await run(['build', STATIC, '--probe-script', script]);
    expect(r.exitCode).toBe(2);
    expect(r.output).toContain('is not executable (chmod +x it)');
  });
});

describe('targets that misbehave', () => {
  it('exits 7 with the output of an app that exits at once', async () => {
    const tag = await image('exits', `FROM ${BASE}\nEXPOSE 8080\nCMD ["/bin/sh", "-c", "echo cannot read /etc/app.conf >&2; exit 3"]\n`);
    const r = await run(['build', tag, '--ready-timeout', '20'], { image: tag });
    expect(r.exitCode, r.output).toBe(7);
    expect(r.output).toContain('exited before the probes could run with code 3');
    expect(r.output).toContain('| cannot read /etc/app.conf');
  });

  it('exits 7 when the app crashes under tracing', async () => {
    const tag = await image('crashes', `FROM ${BASE}\nCMD ["/bin/sh", "-c", "echo about to crash; kill -SEGV $$"]\n`);
    const r = await run(['build', tag], { image: tag });
    expect(r.exitCode, r.output).toBe(7);
    expect(r.output).toContain('crashed under tracing (killed by SIGSEGV, exit code 139)');
    expect(r.output).toContain('| about to crash');
  });

  it('exits 7 when the container cannot start at all', async () => {
    const tag = await image('no-exec', `FROM ${BASE}\nCMD ["/nonexistent-binary"]\n`);
    const r = await run(['build', tag], { image: tag });
    expect(r.exitCode, r.output).toBe(7);
  });

  it('exits 5 when the app never opens its port within --ready-timeout', async () => {
    const tag = await image('silent', `FROM ${BASE}\nEXPOSE 8080\nCMD ["sleep", "300"]\n`);
    const r = await run(['build', tag, '--ready-timeout', '2', '--stop-grace', '1'], { image: tag });
    expect(r.exitCode, r.output).toBe(5);
    expect(r.output).toContain('no HTTP answer within 2s');
  });

  it('exits 5 when a probe script hangs past --probe-timeout', async () => {
    const tag = await image('sleeper', `FROM ${BASE}\nCMD ["sleep", "300"]\n`);
    const script = join(work, 'hang.sh');
    writeFileSync(script, '#!/bin/sh\nexec sleep 60\n');
    chmodSync(script, 0o755);
    const r = await run(['build', tag, '--probe-script', script, '--probe-timeout', '2', '--stop-grace', '1'], { image: tag });
    expect(r.exitCode, r.output).toBe(5);
    expect(r.output).toContain('timed out after 2s');
    expect(r.ms).toBeLessThan(40_000);
  });

  it('exits 5 when an exec probe hangs past --probe-timeout', async () => {
    const tag = await image('sleeper-exec', `FROM ${BASE}\nCMD ["sleep", "300"]\n`);
    const r = await run(['build', tag, '--exec', 'sleep 60', '--probe-timeout', '2', '--stop-grace', '1'], { image: tag });
    expect(r.exitCode, r.output).toBe(5);
    expect(r.output).toContain('timed out after 2s');
  });
});

describe('a disk without room', () => {
  const small = join(work, 'small-tmp');
  const mounted: string[] = [];
  const mount = async (dir: string, bytes: number) => {
    mkdirSync(dir, { recursive: true });
    if ((await execa('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { reject: false })).exitCode !== 0) return false;
    mounted.push(dir);
    return true;
  };
  afterAll(async () => {
    for (const dir of mounted) await execa('umount', [dir], { reject: false });
  });

  it('exits 9 before anything runs when TMPDIR cannot hold a copy of the image, saying how much it needs', async (context) => {
    if (!(await mount(small, 4 * 1024 * 1024))) context.skip();
    const tag = testTag('no-room');
    // the copy is made when the image is read through docker export (read where the engine mounts it, nothing is copied)
    const r = await run(['build', STATIC, '--tag', tag], { env: { TMPDIR: small, SLIMIFY_READ: 'export' }, image: STATIC, temp: small });
    expect(r.exitCode, r.output).toBe(9);
    expect(r.output).toMatch(new RegExp(`keeps a copy of the image's filesystem while it works \\(about [0-9.]+ MB\\), and ${small} has [0-9.]+ [kM]B free`));
    expect(r.output).toContain('set TMPDIR to a directory on a disk with more room');
    expect(r.output).not.toContain('tracing the app');
    expect(await imageId(tag)).toBeUndefined();
  });
});

/** Loads an image whose config says it is for `architecture`, through `docker load` (no registry). */
async function loadForeignImage(tag: string, architecture: string): Promise<void> {
  const layer = await tarBuffer([{ name: 'hello', content: 'hello\n' }]);
  const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
  const config = JSON.stringify({ architecture, os: 'linux', created: '2024-01-01T00:00:00Z', config: { Cmd: ['/hello'] }, rootfs: { type: 'layers', diff_ids: [diffId] } });
  const manifest = JSON.stringify([{ Config: 'config.json', RepoTags: [tag], Layers: ['layer.tar'] }]);
  const archive = await tarBuffer([
    { name: 'manifest.json', content: manifest },
    { name: 'config.json', content: config },
    { name: 'layer.tar', content: layer },
  ]);
  await execa('docker', ['load', '-q'], { input: archive });
}

async function tarBuffer(files: Array<{ name: string; content: string | Buffer }>): Promise<Buffer> {
  const pack = tar.pack();
  for (const f of files) pack.entry({ name: f.name, mode: 0o755, mtime: new Date(0) }, f.content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
