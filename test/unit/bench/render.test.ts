// The benchmark's Markdown (bench/lib/render.mjs) and how it reads bench-parser's output
// (bench/lib/parser-bench.mjs): what the README's figures are copied from.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: plain .mjs modules of the benchmark, without type declarations
import { parserFigures } from '../../../bench/lib/parser-bench.mjs';
// @ts-expect-error: plain .mjs modules of the benchmark, without type declarations
import { headlineTable, renderMarkdown } from '../../../bench/lib/render.mjs';
// @ts-expect-error: plain .mjs modules of the benchmark, without type declarations
import { targets } from '../../../bench/lib/summary.mjs';

const results = new URL('../../../bench/results/', import.meta.url);

/** One image's result as scripts/bench records it. */
function result(name: string, overhead: number, verified = true) {
  return {
    name,
    image: `slimify-fixtures/${name}:latest`,
    original: { size: 131_999_500, gzip: 55_881_937 },
    slim: { size: 9_797_955, gzip: 4_101_430 },
    ratio: 131_999_500 / 9_797_955,
    files: { original: 5621, kept: 23, entriesKept: 55 },
    verified,
    wallMs: 2529,
    floor: { exportMs: 1838, exportBytes: 137_159_168, loadMs: 163, probesMs: 516, totalMs: 2517, withSecondRunMs: 3033 },
    overhead,
    overheadWithSecondRun: 0.83,
    peakRssBytes: 88_248_320,
    gnuTimeMaxRssBytes: 88_379_392,
    stages: { sensor: 54, index: 992, trace: 1025, closure: 39, assemble: 6, load: 166, verify: 527 },
    stagesCoveredMs: 1811,
    slowestStage: 'trace',
    report: { totalMs: 1848 },
    ready: { untracedMs: 7, tracedMs: 20, slimMs: 8 },
    via: 'mount',
    rounds: [{ overhead: 0.95 }, { overhead: overhead }, { overhead: 1.2 }],
  };
}

function run() {
  const r = {
    runs: 3,
    command: 'scripts/bench',
    facts: { date: '2026-11-28', cores: 2, cpuModel: 'cpu', memoryBytes: 24 * 2 ** 30, engine: 'Docker 20.10', kernel: '6.1', node: 'v20', commit: 'abc1234' },
    results: [result('nginx', 1.0047), { name: 'broken', original: { size: 1e6, gzip: 5e5 }, error: 'slimify build exited 5 without a report' }],
    parser: [{ input: 'synthetic mix', lines: 3_000_001, megabytes: 315, cpuSeconds: 10.3, wallSeconds: 9.9, linesPerCpuSecond: 291_000, linesPerWallSecond: 303_000, peakRssMiB: 170, runsLinesPerCpuSecond: [266_000, 291_000, 290_000] }],
  };
  return { ...r, targets: targets(r) };
}

describe('the benchmark Markdown', () => {
  it('gives each image a row of its figures', () => {
    const row = headlineTable(run().results).split('\n')[2];
    expect(row).toBe('| nginx | 132.0 | 55.9 | 9.80 | 4.10 | 13.5x | 23 / 5621 | yes | 2.5 | 2.5 | 1.00x | 88.2 | trace 1.0 s |');
  });

  it('says NO for an image that failed verification, and shows the error of one that gave no report', () => {
    const lines = headlineTable([result('python-web', 1.1, false), run().results[1]]).split('\n');
    expect(lines[2]).toContain('| NO |');
    expect(lines[3]).toBe('| broken | 1.00 | 0.50 | – | – | – | – | error: slimify build exited 5 without a report | – | – | – | – | – |');
  });

  it('shows every round, the stages, the parser runs and each target met or missed', () => {
    const md = renderMarkdown(run());
    expect(md).toContain('| nginx | 1.8 | 137.2 | 0.2 | 0.5 | 2.5 | 2.5 | 1.00x | 0.95x 1.00x 1.20x | 3.0 | 0.83x |');
    expect(md).toContain('| nginx | 0.1 | 1.0 | 1.0 | 0.0 | 0.0 | 0.2 | 0.5 | 0.7 | 1.8 | 2.5 |');
    expect(md).toContain('291,000 (runs: 266,000, 291,000, 290,000)');
    expect(md).toContain('| overhead over the floor ≤ 1.5x on every image | worst 1.00x (nginx); 0 of 1 above | met |');
    expect(md).toMatch(/\| trace parsing ≥ 500,000 lines\/s on one core \(synthetic mix\) \| .* \| MISSED \(1\.7x too slow\) \|/);
  });

  it('renders the committed latest.json as the committed latest.md (scripts/bench --render)', () => {
    const json = JSON.parse(readFileSync(new URL('latest.json', results), 'utf8'));
    expect(renderMarkdown(json)).toBe(readFileSync(new URL('latest.md', results), 'utf8'));
  });
});

describe("bench-parser's output", () => {
  const output = [
    'lines:        2,000,001 (210 MB)',
    'time:         7.27 s wall, 8.05 s CPU',
    'throughput:   248,575 lines per CPU second, 274,940 lines/s wall (29 MB/s)  target 500,000: MISSED',
    'runs:         3, median shown; lines per CPU second: 248,575, 261,731, 241,535',
    'peak RSS:     173 MiB (parser process)',
    'summary:      56061 used, 55892 missing, 61015 pids, 0 malformed, 0 unmatched resumed',
  ].join('\n');

  it('is read into figures', () => {
    expect(parserFigures(output)).toEqual({
      lines: 2_000_001,
      megabytes: 210,
      wallSeconds: 7.27,
      cpuSeconds: 8.05,
      linesPerCpuSecond: 248_575,
      linesPerWallSecond: 274_940,
      peakRssMiB: 173,
      runsLinesPerCpuSecond: [248_575, 261_731, 241_535],
    });
  });

  it('gives null for what a failed run did not print', () => {
    const figures = parserFigures('compiling src/trace ...\n');
    expect(Object.values(figures).every((v) => v === null)).toBe(true);
    expect(parserFigures(output.split('\n').filter((l) => !l.startsWith('runs:')).join('\n')).runsLinesPerCpuSecond).toBeNull();
  });
});
