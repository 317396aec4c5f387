// Verification end to end on the real engine: a CLI fixture verifies by default; python-web
// traced with the default probe only fails verification against a probe file that also calls
// /lazy (decimal is imported only there), names the missing module files and the flags that
// keep them, and --auto-include repairs it. Both outcomes are in the JSON report.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixture, imageId, probeFileFor, removeImages, removeTestContainers, slimify, testSession } from './support.js';

const work = mkdtempSync(join(tmpdir(), 'slimify-verify-test-'));
const tags: string[] = [];

afterAll(async () => {
  await removeTestContainers();
  await removeImages(...tags);
  rmSync(work, { recursive: true, force: true });
});

interface Report {
  output: { id: string };
  verification?: { passed: boolean; comparisons: Array<{ name: string; same: boolean }> };
  verifyProbeDefinitions: Array<{ name: string }>;
  explanation?: { missing: Array<{ path: string }>; flags: string };
  repair?: { rounds: Array<{ round: number; added: string[]; verification: { passed: boolean } }> };
  kept: Record<string, string[]>;
}

const readReport = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as Report;

describe('verification of every build', () => {
  it('passes for the CLI fixture run until it exits', async () => {
    const tag = `slimify-test/cli-tool.slim:${testSession}`;
    tags.push(tag);
    const report = join(work, 'cli.json');
    const result = await slimify(['build', 'slimify-fixtures/cli-tool:latest', '--tag', tag, '--report', report]);
    expect(result.exitCode, result.all).toBe(0);
    expect(readReport(report).verification?.passed).toBe(true);
  }, 300_000);
});

describe('python-web traced with the default probe, verified with every endpoint', () => {
  const python = fixture('python-web');
  const probes = join(work, 'python-probes.json');
  writeFileSync(probes, probeFileFor(python));

  it('fails verification, keeps the image, names the missing module files and the flags to add them', async () => {
    const tag = `slimify-test/python-web.slim:v${testSession}`;
    tags.push(tag);
    const report = join(work, 'python-failed.json');
    const result = await slimify(['build', python.image, '--tag', tag, '--verify-probe-file', probes, '--report', report]);
    expect(result.exitCode, result.all).toBe(6);
    expect(result.all).toContain(`it is kept under ${tag} for inspection`);
    expect(result.all).toContain('GET /lazy on port 8000');
    expect(result.all).toMatch(/\/usr\/lib\/python3\.11\/decimal\.py .*exists in the original/);
    expect(result.all).toContain('--include-path /usr/lib/python3.11/decimal.py');
    expect(result.all).toContain('--include-path /usr/lib/python3.11/lib-dynload/_decimal.cpython-311-x86_64-linux-gnu.so');
    expect(result.all).toContain('--auto-include');

    const json = readReport(report);
    expect(await imageId(tag)).toBe(json.output.id);
    expect(json.verification?.passed).toBe(false);
    expect(json.verifyProbeDefinitions.map((p) => p.name)).toContain('GET /lazy on port 8000');
    expect(json.verification?.comparisons.find((c) => c.name === 'GET /lazy on port 8000')?.same).toBe(false);
    expect(json.verification?.comparisons.find((c) => c.name === 'GET /db on port 8000')?.same).toBe(true);
    expect(json.explanation?.missing.map((m) => m.path)).toContain('/usr/lib/python3.11/decimal.py');
    // the traced run never saw the held-back probes
    expect(json.kept['/usr/lib/python3.11/decimal.py']).toBeUndefined();
  }, 300_000);

  it('ends verified with --auto-include, and the report shows what each round added', async () => {
    const tag = `slimify-test/python-web.slim:a${testSession}`;
    tags.push(tag);
    const report = join(work, 'python-repaired.json');
    const result = await slimify(['build', python.image, '--tag', tag, '--verify-probe-file', probes, '--auto-include', '--report', report]);
    expect(result.exitCode, result.all).toBe(0);
    const json = readReport(report);
    expect(json.verification?.passed).toBe(true);
    expect(json.repair?.rounds.length).toBeGreaterThanOrEqual(1);
    const first = json.repair!.rounds[0]!;
    expect(first.added).toContain('/usr/lib/python3.11/decimal.py');
    expect(json.repair!.rounds.at(-1)!.verification.passed).toBe(true);
    expect(json.kept['/usr/lib/python3.11/decimal.py']).toEqual(['include: auto-include round 1']);
    expect(json.explanation?.missing.map((m) => m.path)).toContain('/usr/lib/python3.11/decimal.py');
    expect(await imageId(tag)).toBe(json.output.id);
  }, 300_000);
});
