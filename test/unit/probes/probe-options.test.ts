// From command-line flags to the list of probes: --http-probe-cmd syntax, which default probes
// run, the healthcheck as a traced exec probe, and --exec / --exec-file commands.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ProbeFlags, buildProbes, healthcheckProbe, parseProbeCmd } from '../../../src/probes/probe-options.js';

const work = mkdtempSync(join(tmpdir(), 'slimify-probe-options-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function flags(overrides: Partial<ProbeFlags> = {}): ProbeFlags {
  return { exposedPorts: ['8000/tcp'], httpProbe: true, httpProbeCmd: [], httpProbeFile: [], probeScript: [], exec: [], execFile: [], timeoutMs: 30_000, ...overrides };
}

describe('--http-probe-cmd', () => {
  it.each([
    ['/api/info', 'GET', '/api/info', 'http'],
    ['POST:/submit', 'POST', '/submit', 'http'],
    ['post:/submit', 'POST', '/submit', 'http'],
    ['http:POST:/submit', 'POST', '/submit', 'http'],
    ['https:get:/secure', 'GET', '/secure', 'https'],
    ['crawl:/page', 'GET', '/page', 'http'],
    ['GET:/time?at=12:30', 'GET', '/time?at=12:30', 'http'],
  ])('reads %s as docker-slim does', (spec, method, path, protocol) => {
    expect(parseProbeCmd(spec, 8000, 1000)).toMatchObject({ kind: 'http', method, path, protocol, port: 8000, timeoutMs: 1000, isDefault: false, expect: { status: [{ min: 100, max: 499 }] } });
  });

  it('names the problem in a bad spec', () => {
    expect(() => parseProbeCmd('api/info', 8000, 1)).toThrow('--http-probe-cmd "api/info": the path must start with /; expected [http:|https:][METHOD:]/PATH, like POST:/api/items');
    expect(() => parseProbeCmd('FETCH:/x', 8000, 1)).toThrow('"fetch" is neither a protocol (http, https) nor a method');
    expect(() => parseProbeCmd('/x', undefined, 1)).toThrow('--http-probe-cmd "/x": the image exposes no TCP port to probe');
  });
});

describe('default probe rules', () => {
  it('GETs / on every exposed TCP port when no custom HTTP probe is given', async () => {
    const probes = await buildProbes(flags({ exposedPorts: ['8000/tcp', '53/udp', '9000/tcp'] }));
    expect(probes.map((p) => p.name)).toEqual(['GET / on port 8000', 'GET / on port 9000']);
    expect(probes.every((p) => p.kind === 'http' && p.isDefault)).toBe(true);
  });

  it('--http-probe=false turns the default GET / off', async () => {
    expect(await buildProbes(flags({ httpProbe: false }))).toEqual([]);
  });

  it('custom HTTP probes replace the default GET / instead of adding to it', async () => {
    const probes = await buildProbes(flags({ httpProbeCmd: ['/health'] }));
    expect(probes.map((p) => p.name)).toEqual(['GET /health on port 8000']);
    const file = join(work, 'probes.json');
    writeFileSync(file, JSON.stringify({ commands: [{ resource: '/db' }] }));
    expect((await buildProbes(flags({ httpProbeFile: [file] }))).map((p) => p.name)).toEqual(['GET /db on port 8000']);
    expect((await buildProbes(flags({ httpProbe: false, httpProbeCmd: ['/health'] }))).map((p) => p.name)).toEqual(['GET /health on port 8000']);
  });

  it('keeps the default GET / next to exec commands and scripts, which are not HTTP probes', async () => {
    const probes = await buildProbes(flags({ exec: ['ls /etc'] }));
    expect(probes.map((p) => p.name)).toEqual(['GET / on port 8000', 'exec: ls /etc']);
  });

  it('runs HTTP probes first, then the healthcheck, --exec and --exec-file commands, then scripts', async () => {
    const execFile = join(work, 'commands.txt');
    writeFileSync(execFile, '# warm the caches\npython3 -c "import decimal"\n\n  ls /etc  \n');
    const script = join(work, 'probe.sh');
    writeFileSync(script, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const probes = await buildProbes(flags({ exec: ['id'], execFile: [execFile], probeScript: [script], healthcheck: { Test: ['CMD-SHELL', 'curl -f localhost:8000/health'] } }));
    expect(probes.map((p) => `${p.kind}: ${p.name}`)).toEqual([
      'http: GET / on port 8000',
      'exec: healthcheck: curl -f localhost:8000/health',
      'exec: exec: id',
      'exec: exec: python3 -c "import decimal"',
      'exec: exec: ls /etc',
      `script: script: ${script}`,
    ]);
    expect(probes.filter((p) => p.kind === 'exec').every((p) => p.kind === 'exec' && p.shell)).toBe(true);
  });

  it('fails early on an --exec-file or probe script that is not there', async () => {
    await expect(buildProbes(flags({ execFile: [join(work, 'none.txt')] }))).rejects.toThrow(`cannot read --exec-file ${join(work, 'none.txt')}`);
    await expect(buildProbes(flags({ probeScript: [join(work, 'none.sh')] }))).rejects.toThrow(`probe script ${join(work, 'none.sh')} does not exist`);
  });
});

describe('the healthcheck becomes a traced exec probe', () => {
  it('CMD runs the command as it is', () => {
    expect(healthcheckProbe({ Test: ['CMD', '/app/check', '--quick'] }, 5000)).toEqual({ kind: 'exec', name: 'healthcheck: /app/check --quick', command: ['/app/check', '--quick'], shell: false, timeoutMs: 5000, isHealthcheck: true });
  });

  it("CMD-SHELL runs through the image's shell", () => {
    expect(healthcheckProbe({ Test: ['CMD-SHELL', 'wget -q -O- localhost || exit 1'] }, 5000)).toMatchObject({ command: ['wget -q -O- localhost || exit 1'], shell: true, isHealthcheck: true });
  });

  it('NONE, an empty test, or no healthcheck give no probe', () => {
    expect(healthcheckProbe({ Test: ['NONE'] }, 1)).toBeUndefined();
    expect(healthcheckProbe({ Test: [] }, 1)).toBeUndefined();
    expect(healthcheckProbe(undefined, 1)).toBeUndefined();
  });
});
