// Probes end to end on the real engine: what the probes make the app touch is what the slim image
// keeps. Custom probe files (slimify's and docker-slim's), probe scripts from probes/, --exec
// commands traced inside the container, and --continue-after.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Answer, type Endpoint, ask, askUntilExpected, docker, fixture, imageId, removeImages, removeTestContainers, startServer, testLabels, testSession,
} from './support.js';
import { tempDirsOf } from './robustness-support.js';

const PROBES = new URL('../../probes/', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'slimify-probes-test-'));
const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const tags: string[] = [];
/** pids of the slimify runs of this file: their labels tell what they left (other sessions may share the engine) */
const pids: number[] = [];

afterAll(async () => {
  await removeTestContainers();
  await removeImages(...tags);
  rmSync(work, { recursive: true, force: true });
});

interface Report {
  kept: Record<string, string[]>;
  probes: Array<{ name: string; kind: string; ok: boolean; status?: number; exitCode?: number }>;
  probeDefinitions: Array<{ kind: string; name: string }>;
  stages: Array<{ stage: string; ms: number }>;
  verification?: { passed: boolean };
}

/** Runs slimify build with a unique tag and a JSON report; returns the CLI result and the report (when written). */
async function build(name: string, image: string, args: string[], env?: Record<string, string>) {
  const tag = `slimify-test/probes-${name}.slim:${testSession}`;
  tags.push(tag);
  const reportFile = join(work, `${name}-report.json`);
  const subprocess = execa('node', [CLI, 'build', image, '--tag', tag, '--report', reportFile, ...args], { reject: false, all: true, env: { ...env, CI: 'true' } });
  pids.push(subprocess.pid!);
  const result = await subprocess;
  const report = result.exitCode === 0 ? (JSON.parse(readFileSync(reportFile, 'utf8')) as Report) : undefined;
  return { tag, result, report };
}

function mustPass(outcome: Awaited<ReturnType<typeof build>>): Report {
  if (outcome.result.exitCode !== 0) throw new Error(`slimify build failed (${outcome.result.exitCode}):\n${outcome.result.all}`);
  return outcome.report!;
}

async function askOrError(port: number, endpoint: Endpoint): Promise<Answer | Error> {
  return ask(port, endpoint).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
}

const traceMs = (report: Report) => report.stages.find((s) => s.stage === 'trace')!.ms;

describe('python-web: a lazily imported endpoint', () => {
  const web = fixture('python-web');
  const home = web.endpoints.find((e) => e.path === '/')!;
  const lazy = web.endpoints.find((e) => e.path === '/lazy')!;

  it('fails on a slim image built with the default probe only, while the original answers', async () => {
    const built = await build('python-default', web.image, []);
    const report = mustPass(built);
    expect(report.probeDefinitions.map((p) => p.name)).toEqual(['GET / on port 8000']);
    expect(Object.keys(report.kept).some((p) => p.includes('_decimal'))).toBe(false);

    const original = await startServer(web.image, 8000, 'py-orig');
    const slim = await startServer(built.tag, 8000, 'py-default-slim');
    expect(await askUntilExpected(slim.port, home)).not.toBeInstanceOf(Error);
    expect(await askUntilExpected(original.port, lazy)).toMatchObject({ status: 200 });
    const broken = await askOrError(slim.port, lazy);
    if (!(broken instanceof Error)) expect(broken.status).toBe(500);
  }, 300_000);

  it('answers on a slim image built with a probe file that calls it', async () => {
    const report = mustPass(await build('python-file', web.image, ['--http-probe-file', join(PROBES, 'python-web.probes.json')]));
    const byName = Object.fromEntries(report.probes.map((p) => [p.name, p]));
    expect(byName['lazily imported decimal']).toMatchObject({ ok: true, status: 200 });
    expect(byName['GET /missing on port 8000']).toMatchObject({ ok: true, status: 404 });
    expect(report.probes.some((p) => p.name.startsWith('GET / on port'))).toBe(false);
    expect(report.verification?.passed).toBe(true);
    expect(Object.keys(report.kept)).toContain('/usr/lib/python3.11/lib-dynload/_decimal.cpython-311-x86_64-linux-gnu.so');

    const slim = await startServer(`slimify-test/probes-python-file.slim:${testSession}`, 8000, 'py-file-slim');
    const answer = await askUntilExpected(slim.port, lazy);
    expect(answer).toMatchObject({ status: 200 });
    expect((answer as Answer).body).toContain('"sum": "0.3"');
  }, 300_000);
});

describe('node-web: a docker-slim probe file, as docker-slim documents it', () => {
  const web = fixture('node-web');

  it('works unchanged: the build passes and the slim image answers those endpoints', async () => {
    writeFileSync(join(work, 'echo.json'), '{"hello":"slimify"}');
    // docker-slim's fields only: no expectations, headers as "Name: value", body_file beside the file
    const file = join(work, 'node-web-probeCmds.json');
    writeFileSync(file, `{
  "commands":
  [
   { "resource": "/" },
   { "method": "GET", "resource": "/health" },
   { "protocol": "http", "resource": "/data" },
   { "protocol": "http", "method": "POST", "resource": "/echo", "body_file": "echo.json", "headers": ["Content-Type: application/json"] },
   { "port": 3000, "resource": "/missing" }
  ]
}`);
    const built = await build('node-docker-slim', web.image, ['--http-probe-file', file]);
    const report = mustPass(built);
    expect(report.probes.map((p) => [p.name, p.ok, p.status])).toEqual([
      ['GET / on port 3000', true, 200],
      ['GET /health on port 3000', true, 200],
      ['GET /data on port 3000', true, 200],
      ['POST /echo on port 3000', true, 200],
      ['GET /missing on port 3000', true, 404],
    ]);
    expect(report.verification?.passed).toBe(true);

    const slim = await startServer(built.tag, 3000, 'node-slim');
    for (const endpoint of web.endpoints) {
      const answer = await askUntilExpected(slim.port, endpoint);
      expect({ path: endpoint.path, answer: answer instanceof Error ? answer.message : answer.status }).toEqual({ path: endpoint.path, answer: endpoint.status });
    }
  }, 300_000);
});

describe('probe scripts from probes/', () => {
  const server = fixture('static-bin');

  it('a script that speaks HTTP over a raw TCP socket exercises the app and passes', async () => {
    const report = mustPass(await build('script-tcp', server.image, ['--probe-script', join(PROBES, 'http-over-tcp.mjs')], { PROBE_PATH: '/health', PROBE_EXPECT: '"status":"ok"' }));
    expect(report.probes.find((p) => p.kind === 'script')).toMatchObject({ name: `script: ${join(PROBES, 'http-over-tcp.mjs')}`, ok: true, exitCode: 0 });
  }, 300_000);

  it('a script that exits non-zero fails the build with exit code 5, its output in the error, and no image', async () => {
    const { tag, result } = await build('script-fail', server.image, ['--probe-script', join(PROBES, 'walk-urls.sh')], { SLIMIFY_URLS: '/health /no-such-page' });
    expect(result.exitCode).toBe(5);
    expect(result.all).toContain('probes failed against slimify-fixtures/static-bin:latest');
    expect(result.all).toMatch(/walk-urls\.sh: exited with 1/);
    expect(result.all).toContain('ok   200 GET /health');
    expect(result.all).toContain('FAIL 404 GET /no-such-page');
    expect(await imageId(tag)).toBeUndefined();
  }, 300_000);
});

describe('--exec commands run inside the traced container', () => {
  it('are traced: what they touch is kept', async () => {
    const web = fixture('python-web');
    const built = await build('exec', web.image, ['--exec', 'python3 -c "import json, decimal"']);
    const report = mustPass(built);
    expect(report.probes.find((p) => p.kind === 'exec')).toMatchObject({ name: 'exec: python3 -c "import json, decimal"', ok: true, exitCode: 0 });
    expect(report.kept['/usr/lib/python3.11/lib-dynload/_decimal.cpython-311-x86_64-linux-gnu.so']).toBeDefined();
    expect(report.kept['/usr/lib/python3.11/decimal.py']).toBeDefined();

    const slim = await startServer(built.tag, 8000, 'exec-slim');
    expect(await askUntilExpected(slim.port, web.endpoints.find((e) => e.path === '/lazy')!)).toMatchObject({ status: 200 });
  }, 300_000);

  it('keep a tool that only an --exec command runs (ls on shell-entrypoint)', async () => {
    const report = mustPass(await build('exec-ls', fixture('shell-entrypoint').image, ['--exec', 'ls /etc']));
    expect(report.kept['/usr/bin/ls']).toBeDefined();
  }, 300_000);

  it('run in a CLI image whose app exits at once: the container is held up for them, and the slim image answers them alike', async () => {
    const cli = fixture('cli-tool');
    const command = 'echo \'{"items":[{"n":1},{"n":2}]}\' | jq -c ".items | map(.n * 2)"';
    const built = await build('exec-cli', cli.image, ['--exec', command]);
    const report = mustPass(built);
    expect(report.probes.find((p) => p.kind === 'exec')).toMatchObject({ ok: true, exitCode: 0, output: '[2,4]\n' });
    expect(report.kept['/usr/bin/jq']).toBeDefined();
    expect(report.kept['/usr/bin/dash']).toBeDefined();
    const slim = await execa('docker', ['run', '--rm', ...testLabels, '--entrypoint', '/bin/sh', built.tag, '-c', command], { reject: false });
    expect({ stdout: slim.stdout, exitCode: slim.exitCode }).toEqual({ stdout: '[2,4]', exitCode: 0 });
  }, 300_000);
});

describe('--continue-after', () => {
  const cli = fixture('cli-tool');

  async function sameOutputs(tag: string): Promise<void> {
    for (const command of cli.commands) {
      const run = async (image: string) => execa('docker', ['run', '-i', '--rm', ...testLabels, image, ...command.args], { input: command.stdin, reject: false });
      const [original, slim] = [await run(cli.image), await run(tag)];
      expect({ args: command.args, stdout: slim.stdout, exitCode: slim.exitCode }).toEqual({ args: command.args, stdout: original.stdout, exitCode: original.exitCode });
    }
  }

  it('exit: the traced run of a CLI image ends when jq exits, and the slim image gives the same output', async () => {
    const built = await build('cli-exit', cli.image, ['--continue-after', 'exit', '--exit-timeout', '60']);
    const report = mustPass(built);
    expect(traceMs(report)).toBeLessThan(20_000);
    expect(report.kept['/usr/bin/jq']).toBeDefined();
    await sameOutputs(built.tag);
  }, 300_000);

  it('N seconds: a CLI image that exits first ends the run early', async () => {
    const built = await build('cli-seconds', cli.image, ['--continue-after', '30']);
    expect(traceMs(mustPass(built))).toBeLessThan(20_000);
    await sameOutputs(built.tag);
  }, 300_000);

  it('N seconds: a server keeps running N seconds after the probes', async () => {
    const report = mustPass(await build('server-seconds', fixture('static-bin').image, ['--continue-after', '3']));
    expect(traceMs(report)).toBeGreaterThanOrEqual(3_000);
  }, 300_000);

  it('exit: a server that never exits is stopped at --exit-timeout, with a warning', async () => {
    const built = await build('server-exit', fixture('static-bin').image, ['--continue-after', 'exit', '--exit-timeout', '2']);
    const report = mustPass(built);
    expect(traceMs(report)).toBeGreaterThanOrEqual(2_000);
    expect(built.result.all).toContain('the app did not exit within 2s; stopping it (set --exit-timeout to wait longer)');
  }, 300_000);

  it('signal: the traced app runs until slimify gets SIGUSR1', async () => {
    const tag = `slimify-test/probes-signal.slim:${testSession}`;
    tags.push(tag);
    const subprocess = execa('node', [CLI, 'build', fixture('static-bin').image, '--tag', tag, '--continue-after', 'signal', '--verify', 'false'], { reject: false, all: true, stdin: 'ignore', env: { CI: 'true' } });
    pids.push(subprocess.pid!);
    let asked = 0;
    subprocess.stderr!.on('data', (chunk: Buffer) => {
      if (!asked && chunk.toString().includes(`run: kill -USR1 ${subprocess.pid}`)) asked = Date.now();
    });
    while (!asked) await new Promise((resolve) => setTimeout(resolve, 200));
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await imageId(tag)).toBeUndefined();
    subprocess.kill('SIGUSR1');
    const result = await subprocess;
    expect(result.exitCode).toBe(0);
    expect(await imageId(tag)).toBeDefined();
  }, 300_000);
});

describe('cleanliness', () => {
  it('leaves no containers, volumes or temp dirs behind', async () => {
    await removeTestContainers();
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) {
      expect({ pid, containers: await docker(['ps', '-aq', '--filter', `label=slimify.pid=${pid}`]) }).toEqual({ pid, containers: '' });
      expect({ pid, volumes: await docker(['volume', 'ls', '-q', '--filter', `label=slimify.pid=${pid}`]) }).toEqual({ pid, volumes: '' });
      expect(tempDirsOf(pid)).toEqual([]);
    }
    expect(await docker(['ps', '-aq', '--filter', `label=slimify.test.session=${testSession}`])).toBe('');
  });
});
