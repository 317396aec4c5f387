/**
 * Runs probes against a running target: waits for each HTTP port to answer (with a deadline),
 * then runs every probe in order and records what it gave.
 */
import { SlimifyError } from '../errors.js';
import { debug } from '../util/log.js';
import { crawl } from './crawl.js';
import { httpRequest, sleep } from './http-request.js';
import { type ExecProbe, type HttpProbe, type Probe, type ProbeOutcome, describeRanges, statusMatches } from './probe.js';

export interface ProbeTarget {
  /** host port published on 127.0.0.1 for each container port */
  ports: Map<number, number>;
  /** runs a command inside the target container (traced when the target is traced) */
  exec(probe: ExecProbe): Promise<{ exitCode: number; output: string }>;
  runScript(path: string, timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /** resolves when the target's main process has exited */
  exited: Promise<unknown>;
}

/** Waits until the app answers HTTP on the port (any status), or the deadline passes. */
export async function waitForHttp(hostPort: number, deadlineMs: number, exited: Promise<unknown>, protocol: 'http' | 'https' = 'http'): Promise<{ ready: boolean; error?: string }> {
  const deadline = Date.now() + deadlineMs;
  let gone = false;
  void exited.then(() => (gone = true));
  let lastError = '';
  while (Date.now() < deadline && !gone) {
    try {
      await httpRequest({ port: hostPort, protocol, method: 'GET', path: '/', timeoutMs: Math.max(1000, Math.min(5000, deadline - Date.now())) });
      return { ready: true };
    } catch (error) {
      lastError = (error as Error).message;
      debug(`port ${hostPort} not ready: ${lastError}`);
    }
    // a short fixed interval: start-up times are measured by this loop, and it only talks to 127.0.0.1
    await sleep(50);
  }
  return { ready: false, error: gone ? 'the container exited before the port answered' : `no HTTP answer within ${deadlineMs / 1000}s (last error: ${lastError})` };
}

async function runHttp(probe: HttpProbe, target: ProbeTarget): Promise<Omit<ProbeOutcome, 'name' | 'kind' | 'durationMs'>> {
  const hostPort = target.ports.get(probe.port);
  if (hostPort === undefined) return { ok: false, error: `port ${probe.port} is not exposed by the image` };
  let lastError = '';
  for (let attempt = 0; attempt <= probe.retries; attempt++) {
    if (attempt > 0) await sleep(500);
    try {
      const response = await httpRequest({ port: hostPort, protocol: probe.protocol, method: probe.method, path: probe.path, headers: probe.headers, body: probe.body, timeoutMs: probe.timeoutMs });
      const facts = { status: response.status, bodyDigest: response.bodyDigest, bodyBytes: response.bodyBytes };
      if (!statusMatches(response.status, probe.expect.status)) {
        lastError = `status ${response.status}, expected ${describeRanges(probe.expect.status)}`;
        if (attempt === probe.retries) return { ok: false, error: lastError, ...facts };
        continue;
      }
      if (probe.expect.bodyContains !== undefined && !response.bodySample.includes(probe.expect.bodyContains)) {
        return { ok: false, error: `body does not contain ${JSON.stringify(probe.expect.bodyContains)}`, ...facts };
      }
      if (probe.expect.bodyRegex !== undefined && !new RegExp(probe.expect.bodyRegex).test(response.bodySample)) {
        return { ok: false, error: `body does not match /${probe.expect.bodyRegex}/`, ...facts };
      }
      return { ok: true, ...facts };
    } catch (error) {
      lastError = (error as Error).message;
    }
  }
  return { ok: false, error: lastError };
}

export async function runProbe(probe: Probe, target: ProbeTarget): Promise<ProbeOutcome> {
  const started = Date.now();
  let result: Omit<ProbeOutcome, 'name' | 'kind' | 'durationMs'>;
  switch (probe.kind) {
    case 'http':
      result = await runHttp(probe, target);
      break;
    case 'exec': {
      const { exitCode, output } = await target.exec(probe);
      result = { ok: exitCode === 0, exitCode, output, error: exitCode === 0 ? undefined : `exited with ${exitCode}` };
      break;
    }
    case 'script': {
      const { exitCode, output } = await target.runScript(probe.path, probe.timeoutMs);
      result = { ok: exitCode === 0, exitCode, output, error: exitCode === 0 ? undefined : `exited with ${exitCode}` };
      break;
    }
  }
  const outcome: ProbeOutcome = { name: probe.name, kind: probe.kind, durationMs: Date.now() - started, ...result };
  debug(`probe ${probe.name}: ${outcome.ok ? 'ok' : outcome.error}`);
  return outcome;
}

export interface ProbeRun {
  outcomes: ProbeOutcome[];
  /** container ports that never answered */
  unready: Array<{ port: number; error: string }>;
  /** from `startedAt` (the container's start) until every HTTP port answered: the app's start-up time */
  readyMs: number;
}

export async function runProbes(probes: Probe[], target: ProbeTarget, readyTimeoutMs: number, startedAt = Date.now()): Promise<ProbeRun> {
  const unready: ProbeRun['unready'] = [];
  const httpPorts = new Map<number, 'http' | 'https'>();
  for (const probe of probes) if (probe.kind === 'http' && !httpPorts.has(probe.port)) httpPorts.set(probe.port, probe.protocol ?? 'http');
  for (const [port, protocol] of httpPorts) {
    const hostPort = target.ports.get(port);
    if (hostPort === undefined) continue;
    const ready = await waitForHttp(hostPort, readyTimeoutMs, target.exited, protocol);
    if (!ready.ready) unready.push({ port, error: ready.error ?? 'not ready' });
  }
  const readyMs = Date.now() - startedAt;
  const outcomes: ProbeOutcome[] = [];
  for (const probe of probes) {
    if (probe.kind === 'http' && unready.some((u) => u.port === probe.port)) {
      outcomes.push({ name: probe.name, kind: 'http', ok: false, durationMs: 0, error: unready.find((u) => u.port === probe.port)!.error });
      continue;
    }
    outcomes.push(await runProbe(probe, target));
  }
  // crawled pages come after every probe's own outcome, so outcome i stays probe i
  for (const [i, probe] of probes.entries()) {
    const hostPort = probe.kind === 'http' ? target.ports.get(probe.port) : undefined;
    if (probe.kind === 'http' && probe.crawl && outcomes[i]?.ok && hostPort !== undefined) outcomes.push(...(await crawl(probe, hostPort)));
  }
  return { outcomes, unready, readyMs };
}

export function probeFailure(run: ProbeRun, image: string): SlimifyError | undefined {
  const probes = run.outcomes.filter((o) => !o.crawled);
  const failed = probes.filter((o) => !o.ok);
  if (failed.length === 0) return undefined;
  return new SlimifyError(`${failed.length} of ${probes.length} probes failed against ${image}`, {
    code: 'probe-failed',
    stage: 'probe',
    image,
    details: failed.flatMap((o) => [`${o.name}: ${o.error}`, ...(o.output ? o.output.trimEnd().split('\n').slice(-20).map((l) => `  | ${l}`) : [])]),
  });
}
