// The benchmark's only contact with the engine: the docker CLI, a few shell pipelines measured as
// a user would run them, and a session that removes whatever the benchmark created.
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';

export const session = randomBytes(4).toString('hex');
export const sessionLabels = ['--label', 'slimify.bench=1', '--label', `slimify.bench.session=${session}`];

export async function docker(args, options = {}) {
  return (await execa('docker', args, options)).stdout.trim();
}

/** Runs a bash pipeline with pipefail; positional arguments are passed as $1, $2 ... */
export async function pipeline(script, ...args) {
  return (await execa('bash', ['-o', 'pipefail', '-c', script, 'bench', ...args])).stdout.trim();
}

/** Milliseconds (and the result) of an async call. */
export async function timed(fn) {
  const started = performance.now();
  const result = await fn();
  return { ms: Math.round(performance.now() - started), result };
}

export async function imageSize(ref) {
  return Number(await docker(['image', 'inspect', '--format', '{{.Size}}', ref]));
}

export async function imageExists(ref) {
  return (await execa('docker', ['image', 'inspect', ref], { reject: false })).exitCode === 0;
}

/** Bytes of `docker save REF | gzip -c` (the compressed size a registry push would roughly move). */
export async function gzippedSaveSize(ref) {
  return Number(await pipeline('docker save "$1" | gzip -c | wc -c', ref));
}

export async function removeImages(...refs) {
  if (refs.length > 0) await execa('docker', ['image', 'rm', '-f', ...refs], { reject: false });
}

/** Removes every container of this session (the benchmark's own; slimify cleans its own up). */
export async function removeSessionContainers() {
  const ids = (await docker(['ps', '-aq', '--filter', `label=slimify.bench.session=${session}`])).split('\n').filter(Boolean);
  if (ids.length > 0) await execa('docker', ['rm', '-f', '-v', ...ids], { reject: false });
}

export async function machineFacts() {
  const os = await import('node:os');
  const info = JSON.parse(await docker(['info', '--format', '{{json .}}']));
  return {
    date: new Date().toISOString(),
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    kernel: os.release(),
    node: process.version,
    engine: `Docker ${info.ServerVersion} (${info.Driver}, cgroup v${info.CgroupVersion})`,
    commit: (await execa('git', ['rev-parse', '--short', 'HEAD'], { reject: false })).stdout.trim() || 'unknown',
  };
}
