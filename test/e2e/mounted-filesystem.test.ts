// The modules under test come from dist/: the static init they run lives there (npm run build).
// Reading an image where the engine mounts it, or inside a container of it, must give what its
// export gives: the same index
// (every entry's type, mode, owner, size, time, link target and content kind) and, for a layer
// of every path, the same bytes. Checked on a fixture, on an imported image of odd entries
// (hardlinks, file capabilities, names that are not UTF-8, devices, a FIFO, setuid bits, long
// names) and on an image whose later layer deletes files and replaces a directory (whiteouts,
// an opaque directory), which the union mount resolves and the export has resolved too. Inside a
// container, what is under /dev is the engine's (a tmpfs), not the image's: it is left out of the
// comparison there.
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Header } from 'tar-stream';
import { readMounted } from '../../dist/assemble/mounted-filesystem.js';
import { readInContainer } from '../../dist/assemble/container-filesystem.js';
import { type PristineFilesystem, readPristine } from '../../dist/assemble/pristine-source.js';
import { blockPadding } from '../../src/assemble/pax-records.js';
import { END_OF_ARCHIVE, headerBlocks } from '../../src/assemble/tar-header.js';
import { layerStream, planLayer } from '../../dist/assemble/write-layer.js';
import { inspectImage } from '../../dist/engine/engine.js';
import { Session } from '../../dist/engine/session.js';
import { initPath, prepareBundle } from '../../dist/sensor/bundle.js';
import { type SensorMounts, prepareSensorMounts } from '../../dist/sensor/sensor-mounts.js';
import { engineObjects, fixture, probeFileFor, removeImages, removeTestContainers, slimify, testSession } from './support.js';
import { buildImage, testTag } from './robustness-support.js';

const root = process.getuid?.() === 0;
const odd = testTag('mount-odd');
const layered = testTag('mount-layered');
/** cap_net_raw+ep, as setcap writes it (VFS_CAP_REVISION_2) */
const CAPABILITY = Buffer.from('0100000200200000000000000000000000000000', 'hex');
const LATIN1_NAME = Buffer.from('caf\xe9', 'latin1').toString('latin1');
const UTF8_NAME = Buffer.from('naïve.txt', 'utf8').toString('latin1');
const LONG = `long/${'n'.repeat(90)}/${'m'.repeat(60)}.txt`;

function oddTar(): Buffer {
  const parts: Buffer[] = [];
  const entry = (header: Partial<Header> & Pick<Header, 'name'>, content: Buffer | string = '') => {
    const body = Buffer.from(content);
    parts.push(headerBlocks({ type: 'file', mode: 0o644, uid: 1234, gid: 4321, size: body.length, mtime: new Date(1_600_000_000_000), linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0, ...header }), body, blockPadding(body.length));
  };
  entry({ name: 'bin', type: 'directory', mode: 0o755 });
  entry({ name: 'bin/tool', mode: 0o755 }, readFileSync(initPath()));
  // not linked: docker import chowns each hardlink, and a chown clears file capabilities
  entry({ name: 'bin/capable', mode: 0o755, pax: { 'SCHILY.xattr.security.capability': CAPABILITY.toString('latin1') } }, 'capable\n');
  entry({ name: 'bin/tool-link', type: 'link', linkname: 'bin/tool', mode: 0o755 }); // a link's mode is its target's: applied on import
  entry({ name: 'bin/tool-link2', type: 'link', linkname: 'bin/tool', mode: 0o755 });
  entry({ name: 'run.sh', mode: 0o755 }, '#!/bin/sh -e\necho hi\n');
  entry({ name: LATIN1_NAME }, 'latin1 name\n');
  entry({ name: UTF8_NAME }, 'utf-8 name\n');
  entry({ name: 'to-cafe', type: 'symlink', linkname: LATIN1_NAME, mode: 0o777 });
  entry({ name: 'dev', type: 'directory', mode: 0o755 });
  entry({ name: 'dev/null-ish', type: 'character-device', devmajor: 1, devminor: 3, mode: 0o666 });
  entry({ name: 'dev/loop-ish', type: 'block-device', devmajor: 7, devminor: 0, mode: 0o660 });
  entry({ name: 'pipe', type: 'fifo', mode: 0o600 });
  entry({ name: 'suid', mode: 0o4755 }, 'setuid\n');
  entry({ name: 'scratch', type: 'directory', mode: 0o1777 });
  entry({ name: 'long', type: 'directory', mode: 0o755 });
  entry({ name: `long/${'n'.repeat(90)}`, type: 'directory', mode: 0o700 });
  entry({ name: LONG }, 'long name\n');
  entry({ name: 'empty' });
  parts.push(END_OF_ARCHIVE);
  return Buffer.concat(parts);
}

let session: Session;
let sensor: SensorMounts;

beforeAll(async () => {
  await execa('docker', ['import', '-', odd], { input: oddTar() });
  await buildImage(
    layered,
    [
      'FROM slimify-fixtures/base:bookworm',
      // a whiteout (a deleted dir), an opaque dir (deleted and made again), a hardlink to a
      // lower layer's file, a device, a FIFO, a name that is not UTF-8
      `RUN rm -r /usr/share/doc/apt && rm -rf /etc/apt && mkdir /etc/apt && echo new > /etc/apt/only && ln /usr/bin/true /usr/bin/true-hard && chmod 4755 /usr/bin/true-hard && mknod /made-null c 1 3 && mkfifo /made-fifo && echo x > "$(printf '/caf\\351')" && mkdir /data && echo kept > /data/in-volume`,
      // the holder container gets an anonymous volume here; the image's files under it still count
      'VOLUME /data',
    ].join('\n'),
  );
  session = new Session();
  sensor = await prepareSensorMounts(session, odd, await prepareBundle());
}, 120_000);

const work = mkdtempSync(join(tmpdir(), 'slimify-mount-test-'));
const builtTags: string[] = [];

afterAll(async () => {
  await session?.dispose();
  await removeTestContainers();
  await removeImages(layered, odd, ...builtTags);
  rmSync(work, { recursive: true, force: true });
});

/** `slimify build` of a fixture with its probe file; the report, or the output when it failed. */
async function build(name: string, label: string, env: Record<string, string> = {}, wrap: string[] = []) {
  const f = fixture(name);
  const tag = `slimify-test/${name}.${label}:${testSession}`;
  builtTags.push(tag);
  const probes = join(work, `${name}-probes.json`);
  writeFileSync(probes, probeFileFor(f));
  const report = join(work, `${name}-${label}.json`);
  const args = ['build', f.image, '--tag', tag, '--http-probe-file', probes, '--report', report, '--verbose'];
  const result = wrap.length ? await execa(wrap[0]!, [...wrap.slice(1), 'node', new URL('../../dist/cli/main.js', import.meta.url).pathname, ...args], { reject: false, all: true, env: { ...env, CI: 'true' } }) : await slimify(args, { env });
  expect(result.exitCode, result.all).toBe(0);
  return { output: result.all, report: JSON.parse(readFileSync(report, 'utf8')) };
}

type Read = (image: NonNullable<Awaited<ReturnType<typeof inspectImage>>>) => Promise<PristineFilesystem>;
const mountedRead: Read = (image) => readMounted(session, image, sensor.sensor);
const containerRead: Read = async (image) => readInContainer(session, image, sensor.sensor, join(await session.tempDir('copy-test'), 'files'));

/** Reads `ref` through the export and the `other` way, hands both to `check`, then lets go of them (the holder container goes). */
async function againstExport(ref: string, other: Read, check: (ways: { exported: PristineFilesystem; read: PristineFilesystem; created: Date }) => Promise<void>): Promise<void> {
  const image = (await inspectImage(ref))!;
  const exported = await readPristine(session, image.id, { copy: await session.tempDir('export-test') });
  try {
    const read = await other(image);
    try {
      await check({ exported, read, created: new Date(image.created) });
    } finally {
      await read.copy!.remove();
    }
  } finally {
    await exported.copy!.remove();
  }
}

/**
 * The engine's init layer, made anew for each container: files of the same content and mode,
 * but each container's own times.
 */
const INIT_LAYER = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/dev/console', '/dev', '/dev/pts', '/dev/shm', '/proc', '/sys', '/etc/mtab', '/etc']);

/** Where the engine mounts its own filesystems: inside a container, what is there is the engine's, not the image's. */
const engineMounted = (path: string) => /^\/(dev|proc|sys)(\/|$)/.test(path);

function entries(fs: PristineFilesystem, skip: (path: string) => boolean = () => false, looseTimes: string[] = []) {
  return [...fs.index.entries()]
    .filter((e) => !skip(e.path))
    .map((e) => (INIT_LAYER.has(e.path) || looseTimes.includes(e.path) ? { ...e, mtime: 0 } : e))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** The digest of a layer of every path (but those skipped), times clamped to the image's creation as a build clamps them. */
async function layerDigest(fs: PristineFilesystem, created: Date, skip: (path: string) => boolean = () => false): Promise<string> {
  const paths = [...fs.index.entries()].map((e) => e.path).filter((path) => !skip(path));
  await fs.copy!.prepare(paths);
  const plan = planLayer({ index: fs.index, headers: fs.headers, content: (path) => fs.copy!.range(path) }, paths, { clampMtime: created });
  const hash = createHash('sha256');
  await pipeline(layerStream(plan), hash);
  return hash.digest('hex');
}

/** What either way of reading must carry of the image of odd entries (devices aside: a container hides /dev). */
function expectOddEntries(read: PristineFilesystem): void {
  expect(read.index.get('/bin/tool-link')).toMatchObject({ type: 'hardlink', linkname: '/bin/tool' });
  expect(read.index.get('/bin/tool')).toMatchObject({ type: 'file', kind: 'elf', uid: 1234, gid: 4321, mode: 0o755 });
  expect(read.index.get('/run.sh')).toMatchObject({ kind: 'script', shebang: '/bin/sh -e' });
  expect(Buffer.from(read.headers.get('/bin/capable')!.pax!['SCHILY.xattr.security.capability']!, 'latin1')).toEqual(CAPABILITY);
  expect(read.headers.get('/caf\xe9')?.name).toBe(LATIN1_NAME);
  expect(read.index.get('/suid')?.mode).toBe(0o4755);
}

describe.skipIf(!root)('reading the image where the engine mounts it', () => {
  it.each([['the nginx fixture', 'slimify-fixtures/nginx:latest'], ['an image of odd entries', odd], ['an image with whiteouts, an opaque dir and a volume', layered]])('gives what the export gives: %s', async (_what, ref) => {
    await againstExport(ref, mountedRead, async ({ exported, read: mounted, created }) => {
      expect(mounted.via).toBe('mount');
      expect(entries(mounted)).toEqual(entries(exported));
      expect(mounted.files).toBe(exported.files);
      expect(mounted.bytes).toBe(exported.bytes);
      expect(await layerDigest(mounted, created)).toBe(await layerDigest(exported, created));
    });
  }, 120_000);

  it('carries hardlinks, capabilities, odd names and devices', async () => {
    await againstExport(odd, mountedRead, async ({ read: mounted }) => {
      expectOddEntries(mounted);
      expect(mounted.headers.get('/dev/null-ish')).toMatchObject({ devmajor: 1, devminor: 3 });
    });
  }, 120_000);

  it('leaves no container or volume once the copy is removed', async () => {
    await againstExport(layered, mountedRead, async ({ read: mounted }) => expect(mounted.index.get('/data/in-volume')).toMatchObject({ type: 'file', size: 5 }));
    await session.removed();
    const labelled = await engineObjects();
    const holders = await execa('docker', ['ps', '-aq', '--filter', 'label=slimify.session']);
    expect(holders.stdout.trim(), JSON.stringify(labelled)).toBe('');
    expect(labelled.volumes).toEqual([]);
    expect((await execa('docker', ['volume', 'ls', '-q', '--filter', 'dangling=true'])).stdout.trim()).toBe('');
  }, 120_000);

  it.each(['static-bin', 'nginx'])('builds the same slim image of %s either way', async (name) => {
    const mounted = await build(name, 'mounted');
    const exported = await build(name, 'exported', { SLIMIFY_READ: 'export' });
    expect(mounted.report.filesystem).toEqual({ via: 'mount' });
    expect(exported.report.filesystem).toEqual({ via: 'export', reason: 'SLIMIFY_READ=export' });
    expect(exported.output).toMatch(/reading the image filesystem done .*\(exported\)/);
    expect(mounted.output).toMatch(/reading the image filesystem done .*\(where the engine mounts it\)/);
    expect(mounted.report.output.layerDigest).toBe(exported.report.output.layerDigest);
    expect(mounted.report.kept).toEqual(exported.report.kept);
  }, 300_000);

  // a private mount namespace with an empty /var/lib/docker: the engine's mounts are out of sight,
  // as for an engine of another mount namespace (rootless, a VM); slimify reads inside a container instead
  it('falls back to reading inside a container when it cannot see where the engine mounts the image', async () => {
    const hidden = await build('static-bin', 'hidden', {}, ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /var/lib/docker && exec "$@"', 'sh']);
    expect(hidden.report.filesystem.via).toBe('container');
    expect(hidden.report.filesystem.reason).toMatch(/^reading the image where the engine mounts it failed: /);
    expect(hidden.report.verification.passed).toBe(true);
    const { containers } = await engineObjects();
    expect(containers).toEqual([]);
  }, 300_000);

  it('refuses an unknown SLIMIFY_READ, and SLIMIFY_READ=mount where it cannot work', async () => {
    const bad = await slimify(['build', 'slimify-fixtures/static-bin:latest'], { env: { SLIMIFY_READ: 'maybe' } });
    expect(bad.exitCode).toBe(2);
    expect(bad.all).toContain('SLIMIFY_READ is "maybe": expected auto, mount, container or export');
    const hidden = await execa('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs /var/lib/docker && exec "$@"', 'sh', 'node', new URL('../../dist/cli/main.js', import.meta.url).pathname, 'build', 'slimify-fixtures/static-bin:latest', '--tag', `slimify-test/forced:${testSession}`], { reject: false, all: true, env: { SLIMIFY_READ: 'mount', CI: 'true' } });
    builtTags.push(`slimify-test/forced:${testSession}`);
    expect(hidden.exitCode).not.toBe(0);
    expect(hidden.all).toMatch(/SLIMIFY_READ=mount, but reading the image where the engine mounts it failed: .*is not the root of the container|SLIMIFY_READ=mount, but reading the image where the engine mounts it failed: ENOENT/);
    expect((await engineObjects()).containers).toEqual([]);
  }, 120_000);
});

describe('reading the image inside a container', () => {
  // a volume's top directory is the engine's, made when the container was: its time is not the image's
  it.each([['the nginx fixture', 'slimify-fixtures/nginx:latest', []], ['an image of odd entries', odd, []], ['an image with whiteouts, an opaque dir and a volume', layered, ['/data']]])(
    'gives what the export gives (but /dev, /proc and /sys): %s',
    async (_what, ref, volumes) => {
      await againstExport(ref, containerRead, async ({ exported, read: inside, created }) => {
        expect(inside.via).toBe('container');
        expect(entries(inside, engineMounted, volumes)).toEqual(entries(exported, engineMounted, volumes));
        const skip = (path: string) => engineMounted(path) || volumes.includes(path);
        expect(await layerDigest(inside, created, skip)).toBe(await layerDigest(exported, created, skip));
      });
    },
    120_000,
  );

  it('carries hardlinks, capabilities, odd names, the files of a volume, and the engine\'s files as its init layer holds them', async () => {
    await againstExport(odd, containerRead, async ({ read: inside }) => {
      expectOddEntries(inside);
      // a hardlink reads as its target, a file asked for twice is fetched once
      await inside.copy!.prepare(['/bin/tool-link', '/bin/tool', '/run.sh']);
      expect(await inside.copy!.readText('/run.sh')).toBe('#!/bin/sh -e\necho hi\n');
      expect(inside.copy!.range('/bin/tool-link')).toEqual(inside.copy!.range('/bin/tool'));
      expect((await inside.copy!.readElf('/bin/tool'))?.interpreter).toBeUndefined();
    });
    await againstExport(layered, containerRead, async ({ read: inside }) => {
      expect(inside.index.get('/data/in-volume')).toMatchObject({ type: 'file', size: 5 });
      expect(await inside.copy!.readText('/data/in-volume')).toBe('kept\n');
      // the container's own files, mounted over the image's, are not read
      expect(inside.index.get('/etc/hosts')).toMatchObject({ type: 'file', size: 0, mode: 0o755 });
      expect(await inside.copy!.readText('/etc/hosts')).toBe('');
    });
  }, 120_000);

  it('reads what ELF files need in ranges, as the export way reads it from the whole files, and copies none of them whole for that', async () => {
    await againstExport(layered, containerRead, async ({ exported, read: inside }) => {
      const elves = [...inside.index.entries()].filter((e) => e.kind === 'elf' && /^\/usr\/(bin|lib\/x86_64-linux-gnu)\//.test(e.path));
      expect(elves.length).toBeGreaterThan(50);
      // libc's dynamic section and strings lie past the first 64 kB block
      expect(elves.map((e) => e.path)).toContain('/usr/lib/x86_64-linux-gnu/libc.so.6');
      for (const { path } of elves) expect(await inside.copy!.readElf(path), path).toEqual(await exported.copy!.readElf(path));
      expect(elves.filter((e) => inside.copy!.range(e.path) !== undefined)).toEqual([]);
      expect(await inside.copy!.readText('/etc/ld.so.conf')).toBe(await exported.copy!.readText('/etc/ld.so.conf'));
    });
  }, 120_000);

  it('fails the read of a file gone since the walk with the reason, goes on with the next, and leaves no container once removed', async () => {
    const inside = await containerRead((await inspectImage(layered))!);
    const holders = await execa('docker', ['ps', '-q', '--filter', `name=slimify-${session.id}-serve`]);
    const holder = holders.stdout.trim().split('\n')[0]!; // the newest first
    await execa('docker', ['exec', holder, 'rm', '/etc/passwd']);
    await expect(inside.copy!.readText('/etc/passwd')).rejects.toThrow('reading /etc/passwd inside the container failed: No such file or directory');
    expect(await inside.copy!.readText('/etc/apt/only')).toBe('new\n');
    await inside.copy!.remove();
    await session.removed();
    expect((await execa('docker', ['ps', '-aq', '--filter', `id=${holder}`])).stdout.trim()).toBe('');
  }, 120_000);

  // nobody, in the engine's group: what a user who may use the engine but is not root gets
  it.skipIf(!root)('is the way a user who is not root gets, and builds what root builds', async () => {
    const group = (await execa('getent', ['group', 'docker'])).stdout.split(':')[2]!;
    const home = mkdtempSync(join(tmpdir(), 'slimify-not-root-test-'));
    chmodSync(home, 0o777);
    try {
      const asRoot = await build('static-bin', 'as-root');
      const probes = join(home, 'probes.json');
      writeFileSync(probes, probeFileFor(fixture('static-bin')));
      const tag = `slimify-test/static-bin.not-root:${testSession}`;
      builtTags.push(tag);
      const report = join(home, 'report.json');
      const cli = new URL('../../dist/cli/main.js', import.meta.url).pathname;
      const args = ['build', fixture('static-bin').image, '--tag', tag, '--http-probe-file', probes, '--report', report];
      const result = await execa('setpriv', ['--reuid=65534', `--regid=${group}`, '--clear-groups', 'node', cli, ...args], { reject: false, all: true, env: { TMPDIR: home, CI: 'true' } });
      expect(result.exitCode, result.all).toBe(0);
      const notRoot = JSON.parse(readFileSync(report, 'utf8'));
      expect(notRoot.filesystem).toEqual({ via: 'container', reason: 'slimify is not running as root, and only root may read where the engine keeps images' });
      expect(notRoot.output.layerDigest).toBe(asRoot.report.output.layerDigest);
      expect(readdirSync(home).sort()).toEqual(['probes.json', 'report.json']);
      expect((await engineObjects()).containers).toEqual([]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 300_000);

  it.each(['static-bin', 'nginx'])('builds the same slim image of %s as through the export', async (name) => {
    const inside = await build(name, 'inside', { SLIMIFY_READ: 'container' });
    const exported = await build(name, 'exported-too', { SLIMIFY_READ: 'export' });
    expect(inside.report.filesystem).toEqual({ via: 'container', reason: 'SLIMIFY_READ=container' });
    expect(inside.output).toMatch(/reading the image filesystem done .*\(inside a container\)/);
    expect(inside.report.output.layerDigest).toBe(exported.report.output.layerDigest);
    expect(inside.report.kept).toEqual(exported.report.kept);
    expect(inside.report.verification.passed).toBe(true);
  }, 300_000);
});
