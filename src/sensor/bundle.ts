/**
 * The sensor bundle: the host's strace with its own dynamic loader and libraries, plus slimify's
 * static init. It is mounted read-only into the traced container and started as
 * `ld.so --library-path DIR strace ...`, so it needs nothing from the image (no shell, no libc)
 * and leaks nothing into the app's environment (no LD_LIBRARY_PATH).
 */
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { SlimifyError } from '../errors.js';

export const SENSOR_DIR = '/.slimify-sensor';
/** where the traced runs write their trace files: a volume of its own, the only one they can write to */
export const TRACE_DIR = '/.slimify-trace';

export interface BundleFile {
  /** path inside the bundle */
  name: string;
  /** path on the host */
  source: string;
}

export interface SensorBundle {
  files: BundleFile[];
  /** Docker architecture name of the host binaries ("amd64", "arm64"). */
  architecture: string;
}

const DOCKER_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };

export function hostArchitecture(): string {
  return DOCKER_ARCH[process.arch] ?? process.arch;
}

/** Parses `ldd` output of the host strace into (soname, path) pairs and the loader path. */
export function parseLdd(output: string): { libraries: Array<{ name: string; path: string }>; loader?: string } {
  const libraries: Array<{ name: string; path: string }> = [];
  let loader: string | undefined;
  for (const line of output.split('\n')) {
    const linked = /^\s*(\S+)\s+=>\s+(\/\S+)\s+\(/.exec(line);
    if (linked) {
      libraries.push({ name: linked[1]!, path: linked[2]! });
      continue;
    }
    const direct = /^\s*(\/\S*ld-\S+)\s+\(/.exec(line);
    if (direct) loader = direct[1];
  }
  return { libraries, loader };
}

/** slimify's static init, built next to this module (dist/sensor/init). */
export function initPath(): string {
  return fileURLToPath(new URL('./init', import.meta.url));
}

async function locateStrace(): Promise<string> {
  const candidates = [process.env.SLIMIFY_STRACE, '/usr/bin/strace', '/bin/strace', '/usr/local/bin/strace'].filter(Boolean) as string[];
  for (const candidate of candidates) if (existsSync(candidate)) return realpath(candidate);
  throw new SlimifyError('strace is not installed on this machine: the sensor needs it (on Debian/Ubuntu: apt-get install strace, or run scripts/setup.sh)', {
    code: 'usage',
    stage: 'sensor',
  });
}

/** Finds the host strace, its loader and libraries, and slimify's init. */
export async function prepareBundle(): Promise<SensorBundle> {
  const init = initPath();
  if (!existsSync(init)) {
    throw new SlimifyError(`the sensor init ${init} is missing: rebuild slimify with \`npm run build\` (needs gcc and libc6-dev)`, { code: 'internal', stage: 'sensor' });
  }
  const strace = await locateStrace();
  // node's own execFile, not execa: loading execa costs a quarter of a second of every build's start-up
  const ldd = await new Promise<{ exitCode: number; stdout: string; stderr: string }>((resolve) => {
    execFile('ldd', [strace], (error, stdout, stderr) => resolve({ exitCode: error ? Number(error.code) || 1 : 0, stdout, stderr }));
  });
  const files: BundleFile[] = [
    { name: 'init', source: init },
    { name: 'strace', source: strace },
  ];
  if (ldd.exitCode === 0) {
    const { libraries, loader } = parseLdd(ldd.stdout);
    if (!loader) throw new SlimifyError(`cannot find the dynamic loader of ${strace} in ldd's output`, { stage: 'sensor' });
    files.push({ name: 'ld.so', source: await realpath(loader) });
    for (const lib of libraries) files.push({ name: `lib/${basename(lib.name)}`, source: await realpath(lib.path) });
  } else if (!/not a dynamic executable/.test(ldd.stderr + ldd.stdout)) {
    throw new SlimifyError(`cannot list the libraries of ${strace}: ${ldd.stderr.trim()}`, { stage: 'sensor' });
  }
  return { files, architecture: hostArchitecture() };
}

/** Whether the bundle is a dynamically linked strace started through its own loader. */
export function usesLoader(bundle: SensorBundle): boolean {
  return bundle.files.some((f) => f.name === 'ld.so');
}

/**
 * The bundle as a tar stream to extract at `/` (root-owned, world-readable, executables 0755)
 * in a container with the sensor volume at SENSOR_DIR and the trace volume at TRACE_DIR. The
 * trace volume's root becomes world-writable and sticky, like /tmp: the traced app may run as
 * any user.
 */
export function bundleTar(bundle: SensorBundle): Readable {
  const pack = tar.pack();
  void (async () => {
    try {
      pack.entry({ name: `${TRACE_DIR.slice(1)}/`, type: 'directory', mode: 0o1777, uid: 0, gid: 0 });
      pack.entry({ name: `${SENSOR_DIR.slice(1)}/lib/`, type: 'directory', mode: 0o755, uid: 0, gid: 0 });
      for (const file of bundle.files) {
        const info = await stat(file.source);
        const entry = pack.entry({ name: `${SENSOR_DIR.slice(1)}/${file.name}`, size: info.size, mode: 0o755, uid: 0, gid: 0, mtime: info.mtime });
        await new Promise<void>((resolve, reject) => {
          const source = createReadStream(file.source);
          source.on('error', reject);
          entry.on('error', reject);
          entry.on('finish', resolve);
          source.pipe(entry);
        });
      }
      pack.finalize();
    } catch (error) {
      pack.destroy(error as Error);
    }
  })();
  return pack as unknown as Readable;
}
