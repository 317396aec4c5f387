// The benchmark's arithmetic (bench/lib/summary.mjs): the round that stands for an image, the
// time the stages cover, and the targets table that says met or missed.
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs module of the benchmark, without type declarations
import { TARGETS, coveredMs, medianBy, summariseRounds, targets } from '../../../bench/lib/summary.mjs';

interface Way { wallMs: number; overhead: number; peakRssBytes?: number }
interface Round { overhead: number; floor: { totalMs: number }; result: { wallMs: number; peakRssBytes?: number; gnuTimeMaxRssBytes?: number | null; ways?: Record<string, Way> } }

const round = (overhead: number, peakRssBytes: number, ways?: Record<string, Way>): Round =>
  ({ overhead, floor: { totalMs: 1000 }, result: { wallMs: overhead * 1000, peakRssBytes, ways } });

describe('medianBy', () => {
  it('picks the middle item of an odd count, the lower middle one of an even count', () => {
    const key = (n: number) => n;
    expect(medianBy([3, 1, 2], key)).toBe(2);
    expect(medianBy([4, 1, 3, 2], key)).toBe(2);
    expect(medianBy([7], key)).toBe(7);
    expect(medianBy([], key)).toBeUndefined();
  });

  it('leaves its input in order', () => {
    const items = [3, 1, 2];
    medianBy(items, (n: number) => n);
    expect(items).toEqual([3, 1, 2]);
  });
});

describe('summariseRounds', () => {
  it('stands the round of median overhead for the image, with the worst round peak memory', () => {
    const rounds = [round(1.3, 90e6), round(1.1, 120e6), round(1.2, 100e6)];
    const s = summariseRounds(rounds);
    expect(s.median).toBe(rounds[2]);
    expect(s.peakRssBytes).toBe(120e6);
    expect(s.gnuTimeMaxRssBytes).toBeNull();
  });

  it('takes each other way at its own median round, and leaves out a way no round took', () => {
    const w = (overhead: number): Way => ({ wallMs: overhead * 1000, overhead });
    const rounds = [
      round(1.0, 1, { container: w(1.4), export: w(1.9) }),
      round(1.1, 1, { container: w(1.2), export: w(1.5) }),
      round(1.2, 1, { container: w(1.3), export: w(1.6) }),
    ];
    expect(summariseRounds(rounds).ways).toEqual({ container: w(1.3), export: w(1.6) });
    expect(summariseRounds([round(1, 1, { container: w(1.4) })]).ways).toEqual({ container: w(1.4) });
    expect(summariseRounds([round(1, 1)]).ways).toEqual({});
  });
});

describe('coveredMs', () => {
  it('counts time that overlapping stages share once', () => {
    // the index runs alongside the trace; the closure alongside the load
    expect(coveredMs([
      { stage: 'sensor', startMs: 0, ms: 50 },
      { stage: 'trace', startMs: 50, ms: 1000 },
      { stage: 'index', startMs: 60, ms: 900 },
      { stage: 'load', startMs: 1100, ms: 200 },
      { stage: 'closure', startMs: 1150, ms: 100 },
      { stage: 'verify', startMs: 1300, ms: 500 },
    ])).toBe(50 + 1000 + 200 + 500);
  });

  it('counts the part of a stage that outlasts the one it started in', () => {
    expect(coveredMs([{ startMs: 0, ms: 100 }, { startMs: 50, ms: 100 }])).toBe(150);
    expect(coveredMs([{ startMs: 200, ms: 10 }, { startMs: 0, ms: 10 }])).toBe(20);
  });

  it('takes a stage without a start as starting at 0', () => {
    expect(coveredMs([{ ms: 30 }, { startMs: 10, ms: 30 }])).toBe(40);
  });
});

describe('targets', () => {
  const image = (name: string, overhead: number, ways?: Record<string, { overhead: number }>) => ({ name, overhead, ways });
  const parser = (input: string, linesPerCpuSecond: number, runs?: number[]) => ({ input, linesPerCpuSecond, runsLinesPerCpuSecond: runs });

  it('meets every target when every figure is within it', () => {
    const rows = targets({
      results: [image('a', 1.2, { container: { overhead: 1.3 } }), image('b', 1.4)],
      scale: { small: { peakRssBytes: 80e6 }, large: { name: 'large-2g', overhead: 0.3, peakRssBytes: 90e6 } },
      parser: [parser('synthetic mix', 600_000)],
    });
    expect(rows.map((r: { met: boolean }) => r.met)).toEqual([true, true, true, true]);
    expect(rows[0].measured).toBe('worst 1.40x (b); 0 of 3 above');
    expect(rows[2].measured).toBe('90 MB (small image: 80 MB)');
  });

  it('names the worst image and counts every image over the overhead target', () => {
    const [row] = targets({ results: [image('a', 1.6), image('b', 1.2), image('c', 1.8)], parser: [] });
    expect(row).toMatchObject({ met: false, measured: 'worst 1.80x (c); 2 of 3 above', by: '1.2x over the target on c' });
  });

  it('counts the 2 GB image among the images of the overhead target', () => {
    const [row] = targets({ results: [image('a', 1.0)], scale: { large: { name: 'large-2g', overhead: 1.51 } }, parser: [] });
    expect(row).toMatchObject({ met: false, measured: 'worst 1.51x (large-2g); 1 of 2 above' });
  });

  it('judges each other way of reading against the same target', () => {
    const rows = targets({
      results: [image('a', 1.0, { container: { overhead: 1.4 }, export: { overhead: 1.64 } }), image('b', 1.1, { export: { overhead: 1.2 } })],
      parser: [],
    });
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatchObject({ met: true, measured: 'worst 1.40x (a); 0 of 1 above' });
    expect(rows[1].target).toContain('SLIMIFY_READ=container');
    expect(rows[2]).toMatchObject({ met: false, measured: 'worst 1.64x (a); 1 of 2 above' });
    expect(rows[2].target).toContain('SLIMIFY_READ=export');
  });

  it('misses the memory target at 300 MB and over', () => {
    const row = targets({ results: [], scale: { small: { peakRssBytes: 1e6 }, large: { peakRssBytes: TARGETS.scaleRssBytes } }, parser: [] })[0];
    expect(row).toMatchObject({ met: false, by: '0 MB over' });
  });

  it('judges each parser input on its own, with the range of its runs', () => {
    const rows = targets({ results: [], parser: [parser('real', 513_000, [502_000, 513_000, 521_000]), parser('synthetic', 291_000), { input: 'failed', linesPerCpuSecond: null }] });
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ met: true, measured: '513,000 lines per CPU second (median of 3: 502,000-521,000)' });
    expect(rows[0].target).toBe('trace parsing ≥ 500,000 lines/s on one core (real)');
    expect(rows[1]).toMatchObject({ met: false, measured: '291,000 lines per CPU second', by: '1.7x too slow' });
  });
});
