// What counts as a pass: a probe passes only when its expectation holds. Checked against a real
// HTTP server on 127.0.0.1 (no engine needed).
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpProbe, Probe } from '../../../src/probes/probe.js';
import { type ProbeTarget, probeFailure, runProbes } from '../../../src/probes/run-probes.js';

let server: Server;
let target: ProbeTarget;
let flaky = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/ok') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"status": "ok"}');
    if (req.url === '/boom') return void res.writeHead(500).end('Internal Server Error');
    if (req.url === '/flaky') return void res.writeHead(++flaky < 3 ? 503 : 200).end('eventually');
    if (req.url === '/echo') return void req.pipe(res.writeHead(200, { 'x-auth': req.headers.authorization ?? '' }));
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target = {
    ports: new Map([[8000, (server.address() as AddressInfo).port]]),
    exited: new Promise(() => {}),
    exec: async () => ({ exitCode: 0, output: '' }),
    runScript: async () => ({ exitCode: 2, output: 'connecting to 127.0.0.1\nFAIL 404 GET /nope' }),
  };
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function http(path: string, extra: Partial<HttpProbe> = {}): HttpProbe {
  return { kind: 'http', name: `GET ${path}`, port: 8000, method: 'GET', path, headers: {}, expect: { status: [{ min: 100, max: 499 }] }, statusOnly: false, timeoutMs: 2000, retries: 0, isDefault: false, ...extra };
}

describe('an HTTP probe passes only when its expectation holds', () => {
  it('by default any answer below 500 passes (a 404 is an answer), a 500 does not', async () => {
    const run = await runProbes([http('/missing'), http('/boom')], target, 5000);
    expect(run.outcomes.map((o) => [o.status, o.ok, o.error])).toEqual([[404, true, undefined], [500, false, 'status 500, expected 100-499']]);
  });

  it('checks the expected status, then the body', async () => {
    const run = await runProbes([
      http('/missing', { expect: { status: [{ min: 200, max: 299 }] } }),
      http('/ok', { expect: { status: [{ min: 200, max: 200 }], bodyContains: '"status": "ok"' } }),
      http('/ok', { expect: { status: [{ min: 200, max: 200 }], bodyContains: 'nope' } }),
      http('/ok', { expect: { status: [{ min: 200, max: 200 }], bodyRegex: '^\\{"status": "(ok|fine)"\\}$' } }),
      http('/ok', { expect: { status: [{ min: 200, max: 200 }], bodyRegex: '^ok' } }),
    ], target, 5000);
    expect(run.outcomes.map((o) => o.error ?? 'ok')).toEqual(['status 404, expected 200-299', 'ok', 'body does not contain "nope"', 'ok', 'body does not match /^ok/']);
  });

  it('retries a failing status', async () => {
    const run = await runProbes([http('/flaky', { retries: 3, expect: { status: [{ min: 200, max: 200 }] } })], target, 5000);
    expect(run.outcomes[0]).toMatchObject({ ok: true, status: 200 });
  });

  it('sends the method, headers and body', async () => {
    const run = await runProbes([http('/echo', { method: 'POST', headers: { Authorization: 'Basic eDp5' }, body: Buffer.from('hello') })], target, 5000);
    expect(run.outcomes[0]).toMatchObject({ ok: true, status: 200, bodyBytes: 5 });
  });

  it('fails a probe on a port the target does not publish', async () => {
    const run = await runProbes([http('/', { port: 9999 })], target, 5000);
    expect(run.outcomes[0]).toMatchObject({ ok: false, error: 'port 9999 is not exposed by the image' });
  });
});

describe('failures', () => {
  it("say which probes failed, why, and show a script's output", async () => {
    const probes: Probe[] = [http('/ok'), { kind: 'script', name: 'script: walk-urls.sh', path: '/bin/false', timeoutMs: 1000 }];
    const error = probeFailure(await runProbes(probes, target, 5000), 'my/app:1');
    expect(error?.code).toBe('probe-failed');
    expect(error?.exitCode).toBe(5);
    expect(error?.message).toBe('1 of 2 probes failed against my/app:1');
    expect(error?.details).toEqual(['script: walk-urls.sh: exited with 2', '  | connecting to 127.0.0.1', '  | FAIL 404 GET /nope']);
  });

  it('none when every probe passed', async () => {
    expect(probeFailure(await runProbes([http('/ok')], target, 5000), 'my/app:1')).toBeUndefined();
  });
});
