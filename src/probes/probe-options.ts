/**
 * Turns the command-line probe options into the list of probes, in the order they run:
 * HTTP probes (the default GET / on every exposed TCP port only when --http-probe is on and no
 * custom HTTP probe is given), then the healthcheck and --exec commands inside the container, then probe scripts.
 */
import { readFile } from 'node:fs/promises';
import type { ImageConfig } from '../engine/engine.js';
import { SlimifyError } from '../errors.js';
import { DEFAULT_STATUS, type ExecProbe, type HttpProbe, type Probe, defaultHttpProbes, tcpPorts } from './probe.js';
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
  /** the default GET / follows the links of HTML answers (default true) */
  httpCrawl?: boolean;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * docker-slim's `--http-probe-cmd` syntax: `/path`, `POST:/path`, `https:GET:/path`, with an
 * optional leading `crawl:` (follow the page's same-origin links). Runs on the first exposed TCP port.
 */
export function parseProbeCmd(spec: string, port: number | undefined, timeoutMs: number): HttpProbe {
  let rest = spec.trim();
  let method = 'GET';
  let protocol: 'http' | 'https' = 'http';
  let crawl = false;
  const usage = (why: string) => new SlimifyError(`--http-probe-cmd "${spec}": ${why}; expected [http:|https:][METHOD:]/PATH, like POST:/api/items`, { code: 'usage', stage: 'probe' });
  for (let fields = 0; !rest.startsWith('/'); fields++) {
    const colon = rest.indexOf(':');
    if (colon < 0 || fields >= 3) throw usage('the path must start with /');
    const field = rest.slice(0, colon).toLowerCase();
    rest = rest.slice(colon + 1);
    if (field === 'http' || field === 'https') protocol = field;
    else if (METHODS.has(field.toUpperCase())) method = field.toUpperCase();
    else if (field === 'crawl') crawl = true;
    else throw usage(`"${field}" is neither a protocol (http, https) nor a method (${[...METHODS].join(', ')})`);
  }
  if (port === undefined) throw new SlimifyError(`--http-probe-cmd "${spec}": the image exposes no TCP port to probe`, { code: 'usage', stage: 'probe' });
  return { kind: 'http', name: `${method} ${rest} on port ${port}`, port, protocol, method, path: rest, headers: {}, expect: { status: DEFAULT_STATUS }, statusOnly: false, timeoutMs, retries: 0, isDefault: false, crawl };
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
  const ports = tcpPorts(flags.exposedPorts);
  const custom: HttpProbe[] = flags.httpProbeCmd.map((spec) => parseProbeCmd(spec, ports[0], flags.timeoutMs));
  for (const file of flags.httpProbeFile) custom.push(...(await readProbeFile(file, { exposedPorts: ports, timeoutMs: flags.timeoutMs })));
  // custom HTTP probes replace the default GET /, so a 404 on / never fails a build whose probes say what matters
  const probes: Probe[] = custom.length === 0 && flags.httpProbe ? defaultHttpProbes(flags.exposedPorts, flags.timeoutMs, flags.httpCrawl ?? true) : custom;
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
