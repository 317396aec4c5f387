// scripts/bench on the real engine, cut down to one fixture, one round, no 2 GB image and a
// small parser trace: the figures it records must agree with each other and with the engine,
// its Markdown must be what it recorded, and it must leave nothing behind, finished or cut short.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the benchmark, without type declarations
import { renderMarkdown } from '../../bench/lib/render.mjs';
import { docker, engineObjects, fixture } from './support.js';

const BENCH = new URL('../../scripts/bench.mjs', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'slimify-bench-test-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Images the benchmark tags (slimify-bench/NAME:SESSION-slim). */
async function benchImages(): Promise<string[]> {
  return (await docker(['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', 'reference=slimify-bench/*'])).split('\n').filter(Boolean);
}

/** The benchmark in its own temp dir (TMPDIR) and its own process group, as a terminal starts it. */
function bench(args: string[], tmp: string) {
  return execa('node', [BENCH, ...args], { reject: false, env: { TMPDIR: tmp }, detached: true });
}

interface Way { wallMs: number; overhead: number; verified: boolean; peakRssBytes: number }

describe('scripts/bench', () => {
  it('measures a fixture against the floor, records consistent figures and renders them', async () => {
    const out = join(work, 'results');
    const tmp = join(work, 'tmp');
    const before = await engineObjects();
    const imagesBefore = await benchImages();
    rmSync(tmp, { recursive: true, force: true });
    await execa('mkdir', ['-p', tmp]);

    const run = await bench(['--only', 'static-bin', '--runs', '1', '--no-scale', '--parser-lines', '0.02', '--out', out], tmp);
    expect(run.exitCode, run.stderr).toBe(0);

    const json = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
    const markdown = readFileSync(join(out, 'latest.md'), 'utf8');
    expect(markdown).toBe(renderMarkdown(json));
    expect(run.stdout.trim()).toBe(markdown.trim());

    expect(json.results).toHaveLength(1);
    const r = json.results[0];
    expect(r.error).toBeUndefined();
    expect(r.name).toBe('static-bin');
    expect(r.exitCode).toBe(0);
    expect(r.verified).toBe(true);
    expect(r.command).toMatch(/^node dist\/cli\/main\.js build slimify-fixtures\/static-bin:latest /);

    // sizes: the original's as the engine reports it; compressed below uncompressed; the ratio is theirs
    const size = Number(await docker(['image', 'inspect', '--format', '{{.Size}}', fixture('static-bin').image]));
    expect(r.original.size).toBe(size);
    expect(r.original.gzip).toBeGreaterThan(0);
    expect(r.original.gzip).toBeLessThan(r.original.size);
    expect(r.slim.size).toBeGreaterThan(0);
    expect(r.slim.size).toBeLessThan(r.original.size / 10);
    expect(r.slim.gzip).toBeLessThan(r.slim.size);
    expect(r.ratio).toBeCloseTo(r.original.size / r.slim.size, 3);
    expect(r.files.kept).toBeGreaterThan(0);
    expect(r.files.kept).toBeLessThan(r.files.original);

    // the floor is its three parts, the overhead slimify's wall time over it
    const floor = r.floor;
    expect(floor.totalMs).toBe(floor.exportMs + floor.loadMs + floor.probesMs);
    expect(floor.withSecondRunMs).toBe(floor.totalMs + floor.probesMs);
    expect(floor.exportBytes).toBeGreaterThan(0.9 * r.original.size);
    for (const part of ['exportMs', 'loadMs', 'probesMs']) expect(floor[part]).toBeGreaterThan(0);
    expect(r.overhead).toBeCloseTo(r.wallMs / floor.totalMs, 6);
    expect(r.rounds).toHaveLength(1);
    expect(r.rounds[0].overhead).toBeCloseTo(r.overhead, 2);

    // stages from the report, covered time within the wall time; memory and time to first answer measured
    for (const stage of ['sensor', 'trace', 'index', 'closure', 'load', 'verify']) expect(r.stages[stage]).toBeGreaterThanOrEqual(0);
    expect(r.stages.trace).toBeGreaterThan(0);
    expect(r.stagesCoveredMs).toBeLessThanOrEqual(r.wallMs);
    expect(r.stagesCoveredMs).toBeGreaterThanOrEqual(Math.max(...Object.values(r.stages as Record<string, number>)));
    expect(r.stages[r.slowestStage]).toBe(Math.max(...Object.values(r.stages as Record<string, number>)));
    expect(r.peakRssBytes).toBeGreaterThan(20e6);
    expect(r.peakRssBytes).toBeLessThan(1e9);
    expect(r.ready.untracedMs).toBeGreaterThanOrEqual(0);
    expect(r.ready.tracedMs).toBeGreaterThanOrEqual(0);

    // the other ways of reading, against the same floor
    expect(Object.keys(r.ways).sort()).toEqual(['container', 'export']);
    for (const way of Object.values(r.ways as Record<string, Way>)) {
      expect(way.verified).toBe(true);
      expect(way.overhead).toBeCloseTo(way.wallMs / floor.totalMs, 2);
      expect(way.peakRssBytes).toBeGreaterThan(20e6);
    }

    // the parser on both inputs, three parses each
    expect(json.parser.map((p: { input: string }) => p.input)).toEqual(['synthetic mix', 'real sample traces replayed (test/samples/strace)']);
    for (const p of json.parser) {
      expect(p.exitCode).toBe(0);
      expect(p.lines).toBeGreaterThanOrEqual(20_000);
      expect(p.lines).toBeLessThan(20_010);
      expect(p.runsLinesPerCpuSecond).toHaveLength(3);
      expect(p.runsLinesPerCpuSecond).toContain(p.linesPerCpuSecond);
      // the rate is lines over CPU seconds, which are printed to 0.01 s
      expect(Math.abs(p.linesPerCpuSecond * p.cpuSeconds - p.lines)).toBeLessThanOrEqual(p.linesPerCpuSecond * 0.005 + p.cpuSeconds);
    }

    // one target row for the overhead, one per other way, one per parser input
    expect(json.targets.map((t: { target: string }) => t.target.slice(0, 20))).toEqual([
      'overhead over the fl', 'the same, the image ', 'the same, the image ', 'trace parsing ≥ 500,', 'trace parsing ≥ 500,',
    ]);

    // nothing left: containers, volumes, images, temp files
    expect(await engineObjects()).toEqual(before);
    expect(await benchImages()).toEqual(imagesBefore);
    expect(readdirSync(tmp)).toEqual([]);
  }, 600_000);

  it('cleans up after Ctrl-C in the middle of a build', async () => {
    const tmp = join(work, 'tmp-interrupted');
    await execa('mkdir', ['-p', tmp]);
    const before = await engineObjects();
    const imagesBefore = await benchImages();

    const run = bench(['--only', 'nginx', '--runs', '1', '--no-scale', '--ways', 'none', '--out', join(work, 'never')], tmp);
    // Ctrl-C reaches the whole process group once slimify's traced run is under way
    await new Promise<void>((resolve, reject) => {
      let seen = '';
      run.stderr!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('nginx: slimify build')) setTimeout(() => { process.kill(-run.pid!, 'SIGINT'); resolve(); }, 1500);
      });
      void run.then(() => reject(new Error(`the benchmark ended before it was interrupted:\n${seen}`)), reject);
    });
    const result = await run;
    expect(result.exitCode, result.stderr).toBe(130);
    expect(result.stderr).toContain('SIGINT: cleaning up');

    expect(await engineObjects()).toEqual(before);
    expect(await benchImages()).toEqual(imagesBefore);
    expect(readdirSync(tmp)).toEqual([]);
    expect(readdirSync(work)).not.toContain('never');
  }, 300_000);
});
