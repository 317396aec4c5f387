// Helpers of the robustness and interrupt tests: run the CLI as a child whose pid we know, and
// find what that process left on the engine (by its slimify.pid label) and in the temp dir.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execa, type ResultPromise } from 'execa';
import { MEMORY_DIR } from '../../src/engine/session.js';
import { docker, testLabels, testSession } from './support.js';

const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;

export type Cli = ResultPromise<{ reject: false; all: true; env: Record<string, string> }>;

/** Starts the built CLI; the promise resolves (never rejects) with the exit code and output. */
export function startSlimify(args: string[], env: Record<string, string> = {}): Cli {
  return execa('node', [CLI, ...args], { reject: false, all: true, env: { CI: 'true', ...env } }) as Cli;
}

export interface Leftovers {
  containers: string[];
  volumes: string[];
  tempDirs: string[];
}

/** Containers, volumes and temp dirs (in TMPDIR and shared memory) a slimify process (by pid) created and did not remove. */
export async function leftoversOf(pid: number, temp = tmpdir()): Promise<Leftovers> {
  const label = `label=slimify.pid=${pid}`;
  const containers = (await docker(['ps', '-a', '--filter', label, '--format', '{{.Names}}'])).split('\n').filter(Boolean);
  const volumes = (await docker(['volume', 'ls', '--filter', label, '--format', '{{.Name}}'])).split('\n').filter(Boolean);
  return { containers, volumes, tempDirs: tempDirsOf(pid, temp) };
}

/** The names of the temp dirs of a slimify process (by pid) in `temp` and in shared memory. */
export function tempDirsOf(pid: number, temp = tmpdir()): string[] {
  const mine = new RegExp(`^slimify-[0-9a-f]{12}-${pid}-`);
  return [temp, MEMORY_DIR].flatMap((dir) => (existsSync(dir) ? readdirSync(dir) : []).filter((name) => mine.test(name)));
}

export const NOTHING: Leftovers = { containers: [], volumes: [], tempDirs: [] };

/** A unique test image tag. */
export function testTag(name: string): string {
  return `slimify-test/robust-${name}:${testSession}-${randomBytes(2).toString('hex')}`;
}

/** Builds a local image from a Dockerfile text (FROM a fixture, no network needed). */
export async function buildImage(tag: string, dockerfile: string): Promise<void> {
  await execa('docker', ['build', '-q', ...testLabels, '-t', tag, '-'], { input: dockerfile });
}

/** Resolves when `text` appears in the child's stderr (or rejects after `ms`). */
export function waitForOutput(child: Cli, text: string, ms = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`"${text}" did not appear within ${ms / 1000}s; output so far:\n${seen}`)), ms);
    child.stderr?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}
