import { describe, expect, it } from 'vitest';
import { diveEfficiency } from '../../../src/xray/efficiency.js';
import type { LayerFacts } from '../../../src/xray/layer-facts.js';

const file = (path: string, size: number) => ({ path, kind: 'file' as const, size });
const dir = (path: string) => ({ path, kind: 'dir' as const, size: 0 });
const layer = (entries: LayerFacts['entries'], whiteouts: LayerFacts['whiteouts'] = []): LayerFacts => ({
  entries,
  whiteouts,
  contentBytes: entries.reduce((s, e) => s + e.size, 0),
});

describe("dive's efficiency", () => {
  it('is 1 with no wasted bytes when no path is touched twice', () => {
    const result = diveEfficiency([layer([dir('/a'), file('/a/x', 10)]), layer([file('/b', 5)])]);
    expect(result.efficiency).toBe(1);
    expect(result.wastedBytes).toBe(0);
    expect(result.userSizeBytes).toBe(5);
  });

  it('counts an overwritten file with both copies and a deleted file with its size (hand-computed)', () => {
    // layer 0: /a 100, /b/c 50; layer 1: /a 30 (overwrite), /d 200; layer 2: deletes /d (file) and /b (dir)
    const result = diveEfficiency([
      layer([file('/a', 100), dir('/b'), file('/b/c', 50)]),
      layer([file('/a', 30), file('/d', 200)]),
      layer([], [
        { path: '/d', opaque: false },
        { path: '/b', opaque: false },
      ]),
    ]);
    // minimums: /a 30, /b/c 50, /d 0, /b 50 (the deleted directory counts its subtree) = 130
    // cumulatives: /a 130, /b/c 50, /d 200, /b 50 = 430
    expect(result.efficiency).toBeCloseTo(130 / 430, 10);
    // paths seen twice: /a (130) and /d (200)
    expect(result.wastedBytes).toBe(330);
    expect(result.sizeBytes).toBe(380);
    expect(result.userSizeBytes).toBe(230);
    expect(result.userWastedPercent).toBeCloseTo(330 / 230, 10);
    expect(result.inefficientPaths).toEqual([
      { path: '/d', count: 2, cumulativeBytes: 200 },
      { path: '/a', count: 2, cumulativeBytes: 130 },
    ]);
  });

  it('ignores opaque markers, as dive does', () => {
    const result = diveEfficiency([layer([dir('/etc'), file('/etc/x', 10)]), layer([dir('/etc')], [{ path: '/etc', opaque: true }])]);
    expect(result.wastedBytes).toBe(0);
    expect(result.efficiency).toBe(1);
  });

  it('does not count directories that have children, only leaves', () => {
    const result = diveEfficiency([layer([dir('/app'), file('/app/a', 7)]), layer([dir('/app'), file('/app/b', 3)])]);
    expect(result.wastedBytes).toBe(0);
  });
});
