/**
 * Gets the sensor bundle into the traced containers and their trace files out, in one of two ways.
 *
 * - **bind**, when the engine shares this machine's filesystem (a local engine): the bundle is
 *   copied into a temp dir that traced containers bind-mount read-only, and a second temp dir,
 *   world-writable and sticky like /tmp, takes the trace files, which slimify then reads from the
 *   disk. Nothing is uploaded into or downloaded from the engine: its archive calls start a helper
 *   process each (~0.15 s apiece here, several times that while the image is being exported).
 *   What an app running as root leaves in the trace dir that slimify may not remove is cleared
 *   through the engine at the end (clearTraces).
 * - **volume**, otherwise (DOCKER_HOST on another machine, a temp dir on a noexec mount, SELinux
 *   enforcing): two volumes, filled by one archive upload into a container that is never started;
 *   the trace files come back through the archive API.
 *
 * Whether the engine sees the temp dir is not guessed: a container that mounts it is created
 * (never started), and the engine refuses one whose bind source it cannot find. The dir's name is
 * random, so an engine that finds it sees this machine's dir. SLIMIFY_SENSOR_MOUNT=bind|volume
 * forces one way (bind then fails instead of falling back).
 */
import { chmod, copyFile, mkdir, readFile, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { SlimifyError, engineStatus } from '../errors.js';
import { type MountSource, createContainer } from '../engine/container.js';
import type { Session } from '../engine/session.js';
import { debug } from '../util/log.js';
import { SENSOR_DIR, type SensorBundle, TRACE_DIR, bundleTar, initPath } from './bundle.js';

export interface SensorMounts {
  /** the bundle, mounted read-only at SENSOR_DIR */
  sensor: MountSource;
  /** the trace files, mounted read-write at TRACE_DIR; runs of one build share it (see tracer-command.ts) */
  traces: MountSource;
}

type Transport = 'auto' | 'bind' | 'volume';

function requestedTransport(): Transport {
  const value = process.env.SLIMIFY_SENSOR_MOUNT ?? 'auto';
  if (value === 'auto' || value === 'bind' || value === 'volume') return value;
  throw new SlimifyError(`SLIMIFY_SENSOR_MOUNT is ${JSON.stringify(value)}: expected auto, bind or volume`, { code: 'usage', stage: 'sensor' });
}

export async function prepareSensorMounts(session: Session, ref: string, bundle: SensorBundle): Promise<SensorMounts> {
  const transport = requestedTransport();
  if (transport !== 'volume') {
    const reason = await bindUnavailable();
    if (!reason) {
      const bound = await bindMounts(session, ref, bundle, transport === 'bind');
      if (bound) return bound;
    } else if (transport === 'bind') {
      throw new SlimifyError(`SLIMIFY_SENSOR_MOUNT=bind, but ${reason}`, { code: 'usage', stage: 'sensor' });
    } else debug(`sensor: uploaded into volumes: ${reason}`);
  }
  return volumeMounts(session, ref, bundle);
}

/** Why bind mounts cannot work here, known without asking the engine; undefined when they may. */
async function bindUnavailable(): Promise<string | undefined> {
  const host = process.env.DOCKER_HOST;
  if (host && !host.startsWith('unix://')) return `the engine is at ${host}, not on this machine`;
  const enforce = await readFile('/sys/fs/selinux/enforce', 'utf8').catch(() => '0');
  if (enforce.trim() === '1') return 'SELinux is enforcing (containers may not read host temp dirs)';
  return undefined;
}

async function bindMounts(session: Session, ref: string, bundle: SensorBundle, forced: boolean): Promise<SensorMounts | undefined> {
  const dir = await session.tempDir('sensor', undefined, { mounted: true, clear: () => clearTraceDir({ traces: join(dir, 'traces'), image: ref, name: session.name('clear-traces'), labels: session.labels }) });
  const mountOptions = mountOptionsOf(await realpath(dir), await readFile('/proc/self/mountinfo', 'utf8').catch(() => ''));
  if (mountOptions.includes('noexec')) {
    if (forced) throw new SlimifyError(`SLIMIFY_SENSOR_MOUNT=bind, but ${dir} is on a noexec mount: set TMPDIR to a directory the sensor can run from`, { code: 'usage', stage: 'sensor' });
    debug(`sensor: uploaded into volumes: ${dir} is on a noexec mount`);
    return undefined;
  }
  const sensor = join(dir, 'sensor');
  const traces = join(dir, 'traces');
  await mkdir(join(sensor, 'lib'), { recursive: true });
  await mkdir(traces);
  // modes set, not left to the umask: an app running as any user runs the sensor, and may write
  // its trace file but not remove another's (like the volume's). The temp dir around them stays
  // private: a container sees only the mounted dirs themselves.
  await Promise.all([chmod(sensor, 0o755), chmod(join(sensor, 'lib'), 0o755), chmod(traces, 0o1777)]);
  await Promise.all(
    bundle.files.map(async (file) => {
      const target = join(sensor, file.name);
      await copyFile(file.source, target);
      await chmod(target, 0o755);
    }),
  );
  const mounts: SensorMounts = { sensor: { bind: sensor }, traces: { bind: traces } };
  try {
    const check = await session.container({ image: ref, purpose: 'sensor-check', entrypoint: ['/.slimify-never-started'], cmd: [], mounts: sensorMounts(mounts) });
    session.discardContainer(check.id);
  } catch (error) {
    if (forced || engineStatus(error) !== 400) throw error;
    debug(`sensor: uploaded into volumes: the engine cannot bind-mount ${dir} (${(error as Error).message})`);
    return undefined;
  }
  return mounts;
}

async function volumeMounts(session: Session, ref: string, bundle: SensorBundle): Promise<SensorMounts> {
  const [sensor, traces] = await Promise.all([session.volume('sensor'), session.volume('traces')]);
  const mounts: SensorMounts = { sensor: { volume: sensor }, traces: { volume: traces } };
  // never started: the image is only needed because a container needs one
  const loader = await session.container({
    image: ref,
    purpose: 'sensor-loader',
    entrypoint: ['/.slimify-never-started'],
    cmd: [],
    mounts: sensorMounts(mounts, false),
  });
  try {
    await loader.putArchive(bundleTar(bundle), '/');
  } finally {
    session.discardContainer(loader.id);
  }
  return mounts;
}

/**
 * Removes everything under the bound trace dir `traces` from inside a container that runs as
 * root (slimify's static init, bound from where slimify has it, in its --clear mode; no
 * network). An app running as root may leave files there that slimify, when not root itself,
 * is not allowed to remove. Nothing of `image` runs: it only gives the container a root
 * filesystem. The container carries `labels` (`slimify clean` finds it if this is cut short)
 * and is removed at once. Resolves true once the dir is empty (see removeDir).
 */
export async function clearTraceDir(options: { traces: string; image: string; name: string; labels: Record<string, string> }): Promise<boolean> {
  const clearer = await createContainer({
    image: options.image,
    name: options.name,
    labels: options.labels,
    entrypoint: ['/.slimify-init', '--clear', TRACE_DIR],
    cmd: [],
    user: '0',
    noNetwork: true,
    mounts: [
      { source: { bind: initPath() }, target: '/.slimify-init', readOnly: true },
      { source: { bind: options.traces }, target: TRACE_DIR, readOnly: false },
    ],
  });
  try {
    await clearer.start();
    const { StatusCode } = await clearer.wait();
    if (StatusCode !== 0) throw new Error(`the container clearing it exited with ${StatusCode}: ${(await clearer.logs()).stderr.trim()}`);
  } finally {
    await clearer.remove();
  }
  return true;
}

/** The mounts of a traced container: the bundle read-only (unless it is being filled), the trace files read-write. */
export function sensorMounts(mounts: SensorMounts, sensorReadOnly = true): Array<{ source: MountSource; target: string; readOnly: boolean }> {
  return [
    { source: mounts.sensor, target: SENSOR_DIR, readOnly: sensorReadOnly },
    { source: mounts.traces, target: TRACE_DIR, readOnly: false },
  ];
}

/**
 * The per-mount options (rw, nosuid, noexec ...) of the mount holding `path`, from the text of
 * /proc/self/mountinfo: the last listed mount whose mount point is `path` or one of its parents.
 */
export function mountOptionsOf(path: string, mountinfo: string): string[] {
  let best: { point: string; options: string[] } | undefined;
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields.length < 6) continue;
    const point = fields[4]!.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
    const inside = point === '/' || path === point || path.startsWith(`${point}/`);
    if (inside && (!best || point.length >= best.point.length)) best = { point, options: fields[5]!.split(',') };
  }
  return best?.options ?? [];
}
