/**
 * Probe scripts run on the host while the target runs. They find the target through their
 * environment: SLIMIFY_TARGET_HOST, SLIMIFY_PORT_<N> for each exposed port, SLIMIFY_TARGET_PORT
 * and SLIMIFY_TARGET_URL for the first one, SLIMIFY_CONTAINER_ID.
 */
import { access, constants, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SlimifyError } from '../errors.js';

export function scriptEnvironment(ports: Map<number, number>, containerId: string): Record<string, string> {
  const env: Record<string, string> = { SLIMIFY_TARGET_HOST: '127.0.0.1', SLIMIFY_CONTAINER_ID: containerId };
  const sorted = [...ports.entries()].sort((a, b) => a[0] - b[0]);
  for (const [containerPort, hostPort] of sorted) env[`SLIMIFY_PORT_${containerPort}`] = String(hostPort);
  const first = sorted[0];
  if (first) {
    env.SLIMIFY_TARGET_PORT = String(first[1]);
    env.SLIMIFY_TARGET_URL = `http://127.0.0.1:${first[1]}`;
  }
  return env;
}

/** Checks up front that a probe script exists and is executable, so a typo fails before tracing starts. */
export async function checkScript(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    const info = await stat(absolute);
    if (!info.isFile()) throw new Error('not a file');
    await access(absolute, constants.X_OK);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (error as NodeJS.ErrnoException).code === 'EACCES' ? 'is not executable (chmod +x it)' : (error as Error).message;
    throw new SlimifyError(`probe script ${path} ${reason}`, { code: 'usage', stage: 'probe', cause: error });
  }
  return absolute;
}

/** `gone`: the target died; a script still running against it is stopped, not waited for. */
export async function runScript(path: string, env: Record<string, string>, timeoutMs: number, gone?: Promise<unknown>): Promise<{ exitCode: number; output: string }> {
  // its own process group, so a deadline (or the end) also stops whatever the script started,
  // which would otherwise hold the output pipe open
  // loaded when needed: execa takes a noticeable part of start-up
  const { execa } = await import('execa');
  const child = execa(path, [], { env, all: true, reject: false, stdin: 'ignore', detached: true });
  const killGroup = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  };
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, timeoutMs);
  let targetGone = false;
  void gone?.then(() => {
    targetGone = true;
    killGroup();
  });
  const result = await child.finally(() => clearTimeout(timer));
  killGroup();
  const output = result.all ?? '';
  if (timedOut) return { exitCode: 124, output: `${output}\n(timed out after ${timeoutMs / 1000}s)` };
  if (targetGone && result.exitCode !== 0) return { exitCode: result.exitCode ?? 137, output: `${output}\n(stopped: the target container exited)` };
  return { exitCode: result.exitCode ?? 1, output };
}
