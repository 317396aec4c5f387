// Shared by the end-to-end tests: the fixture catalogue, the slimify CLI, and small docker helpers.
// Every container a test starts carries the test session's label, so afterAll can remove it.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { execa, type Result } from 'execa';
import { vi } from 'vitest';

export interface Endpoint {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
  contentType?: string;
  bodyContains: string;
}

export interface CliCommand {
  args: string[];
  stdin: string;
  stdout: string;
  exitCode: number;
}

export interface Fixture {
  name: string;
  image: string;
  port: number | null;
  endpoints: Endpoint[];
  commands: CliCommand[];
}

export interface Answer {
  status: number;
  contentType: string;
  body: string;
}

export const catalogue = JSON.parse(readFileSync(new URL('../../fixtures/catalogue.json', import.meta.url), 'utf8')) as { fixtures: Fixture[] };

export function fixture(name: string): Fixture {
  const found = catalogue.fixtures.find((f) => f.name === name);
  if (!found) throw new Error(`no fixture ${name} in fixtures/catalogue.json`);
  return found;
}

export const testSession = randomBytes(4).toString('hex');
export const testLabels = ['--label', 'slimify.test=1', '--label', `slimify.test.session=${testSession}`];
const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;

/** Runs the built CLI; never throws on a non-zero exit (tests assert on it). */
export function slimify(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<Result<{ reject: false; all: true }>> {
  return execa('node', [CLI, ...args], { reject: false, all: true, env: { ...options.env, CI: 'true' }, input: options.input });
}

export async function docker(args: string[]): Promise<string> {
  return (await execa('docker', args)).stdout;
}

export async function imageId(ref: string): Promise<string | undefined> {
  const result = await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', ref], { reject: false });
  return result.exitCode === 0 ? result.stdout.trim() : undefined;
}

export async function inspectConfig(ref: string): Promise<Record<string, unknown>> {
  return JSON.parse(await docker(['image', 'inspect', '--format', '{{json .Config}}', ref])) as Record<string, unknown>;
}

export async function removeImages(...refs: string[]): Promise<void> {
  await execa('docker', ['image', 'rm', '-f', ...refs], { reject: false });
}

/** Containers and volumes on the engine, to compare before and after a test. */
export async function engineObjects(): Promise<{ containers: string[]; volumes: string[] }> {
  const containers = (await docker(['ps', '-aq'])).split('\n').filter(Boolean).sort();
  const volumes = (await docker(['volume', 'ls', '-q'])).split('\n').filter(Boolean).sort();
  return { containers, volumes };
}

export async function removeTestContainers(): Promise<void> {
  const ids = (await docker(['ps', '-aq', '--filter', `label=slimify.test.session=${testSession}`])).split('\n').filter(Boolean);
  if (ids.length > 0) await execa('docker', ['rm', '-f', '-v', ...ids], { reject: false });
}

export async function ask(port: number, endpoint: Endpoint): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}${endpoint.path}`, {
    method: endpoint.method,
    headers: endpoint.headers,
    body: endpoint.body,
    signal: AbortSignal.timeout(5_000),
  });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text() };
}

export function matches(answer: Answer, endpoint: Endpoint): boolean {
  return answer.status === endpoint.status && answer.body.includes(endpoint.bodyContains) && (endpoint.contentType === undefined || answer.contentType.startsWith(endpoint.contentType));
}

/** Asks until the answer matches or the deadline passes; a server still starting refuses connections. */
export async function askUntilExpected(port: number, endpoint: Endpoint, deadlineMs = 60_000): Promise<Answer | Error> {
  const deadline = Date.now() + deadlineMs;
  let last: Answer | Error = new Error('never asked');
  while (Date.now() < deadline) {
    try {
      last = await ask(port, endpoint);
      if (matches(last, endpoint)) return last;
    } catch (error) {
      last = error instanceof Error ? error : new Error(String(error));
    }
    await sleep(250);
  }
  return last;
}

export async function publishedPort(container: string, port: number): Promise<number> {
  const stdout = await docker(['port', container, `${port}/tcp`]);
  const line = stdout.split('\n').find((l) => l.startsWith('127.0.0.1:'));
  if (line === undefined) throw new Error(`${container}: port ${port} is not published on 127.0.0.1 (${stdout})`);
  return Number(line.slice('127.0.0.1:'.length));
}

/** Starts IMAGE as the catalogue says, on a random 127.0.0.1 port; returns the name and port. */
export async function startServer(image: string, containerPort: number, purpose: string): Promise<{ name: string; port: number }> {
  const name = `slimify-test-${purpose}-${randomBytes(3).toString('hex')}-${testSession}`;
  await docker(['run', '-d', '--name', name, ...testLabels, '-p', `127.0.0.1::${containerPort}`, image]);
  return { name, port: await publishedPort(name, containerPort) };
}

/** A docker-slim style probe file calling every catalogued endpoint of a fixture. */
export function probeFileFor(f: Fixture): string {
  return JSON.stringify({
    commands: f.endpoints.map((e) => ({
      method: e.method,
      resource: e.path,
      port: f.port,
      headers: Object.entries(e.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
      body: e.body,
      expect_status: e.status,
    })),
  });
}

/**
 * Runs one slimify subcommand in this process (registered with `register`), capturing stdout;
 * a thrown SlimifyError comes back as `error` instead of exiting.
 */
export async function runInProcess(register: (program: Command) => void, args: string[]): Promise<{ stdout: string; error?: unknown }> {
  const program = new Command('slimify').exitOverride();
  register(program);
  let stdout = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'slimify', ...args]);
    return { stdout };
  } catch (error) {
    return { stdout, error };
  } finally {
    spy.mockRestore();
  }
}
