/**
 * Turns the command-line probe options into the list of probes, in the order they run:
 * HTTP probes (the default GET / only when no custom HTTP probe is given and --http-probe is
 * on), then the healthcheck and --exec commands inside the container, then probe scripts.
 */
import { readFile } from 'node:fs/promises';
import type { ImageConfig } from '../engine/engine.js';
import { SlimifyError } from '../errors.js';
import { DEFAULT_STATUS, type ExecProbe, type HttpProbe, type Probe, defaultHttpProbes } from './probe.js';
import { readProbeFile } from './probe-file.js';
import { checkScript } from './probe-script.js';

export interface ProbeFlags {
  exposedPorts: string[];
  httpProbe: boolean;
  httpProbeCmd: string[];
  httpProbeFile: string[];
  probeScript: string[];
  exec: string[];
  execFile: string[];
  healthcheck?: ImageConfig['Healthcheck'];
  timeoutMs: number;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** `GET:/path`, `POST:/api`, or just `/path`. */
export function parseProbeCmd(spec: string, port: number | undefined, timeoutMs: number): HttpProbe {
  const colon = spec.indexOf(':');
  const maybeMethod = colon > 0 ? spec.slice(0, colon).toUpperCase() : '';
  const [method, path] = METHODS.has(maybeMethod) ? [maybeMethod, spec.slice(colon + 1)] : ['GET', spec];
  if (!path.startsWith('/')) throw new SlimifyError(`--http-probe-cmd "${spec}": expected [METHOD:]PATH with PATH starting with /`, { code: 'usage' });
  if (port === undefined) throw new SlimifyError(`--http-probe-cmd "${spec}": the image exposes no TCP port to probe`, { code: 'usage' });
  return { kind: 'http', name: `${method} ${path} on port ${port}`, port, method, path, headers: {}, expect: { status: DEFAULT_STATUS }, statusOnly: false, timeoutMs, retries: 0, isDefault: false };
}

export function healthcheckProbe(healthcheck: ImageConfig['Healthcheck'], timeoutMs: number): ExecProbe | undefined {
  const test = healthcheck?.Test;
  if (!test || test.length === 0 || test[0] === 'NONE') return undefined;
  const [kind, ...rest] = test;
  if (kind === 'CMD-SHELL') return { kind: 'exec', name: `healthcheck: ${rest.join(' ')}`, command: [rest.join(' ')], shell: true, timeoutMs, isHealthcheck: true };
  if (kind === 'CMD') return { kind: 'exec', name: `healthcheck: ${rest.join(' ')}`, command: rest, shell: false, timeoutMs, isHealthcheck: true };
  return undefined;
}

export async function buildProbes(flags: ProbeFlags): Promise<Probe[]> {
  const firstPort = flags.exposedPorts.map((p) => Number.parseInt(p, 10)).find((p) => Number.isInteger(p));
  const custom: HttpProbe[] = flags.httpProbeCmd.map((spec) => parseProbeCmd(spec, firstPort, flags.timeoutMs));
  for (const file of flags.httpProbeFile) custom.push(...(await readProbeFile(file, firstPort, flags.timeoutMs)));
  const probes: Probe[] = custom.length === 0 && flags.httpProbe ? defaultHttpProbes(flags.exposedPorts, flags.timeoutMs) : custom;
  const health = healthcheckProbe(flags.healthcheck, flags.timeoutMs);
  if (health) probes.push(health);
  const commands = [...flags.exec];
  for (const file of flags.execFile) {
    const text = await readFile(file, 'utf8').catch((cause: unknown) => {
      throw new SlimifyError(`cannot read --exec-file ${file}`, { code: 'usage', cause });
    });
    commands.push(...text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
  }
  for (const command of commands) probes.push({ kind: 'exec', name: `exec: ${command}`, command: [command], shell: true, timeoutMs: flags.timeoutMs, isHealthcheck: false });
  for (const script of flags.probeScript) probes.push({ kind: 'script', name: `script: ${script}`, path: await checkScript(script), timeoutMs: flags.timeoutMs });
  return probes;
}
