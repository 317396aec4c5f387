import { describe, expect, it } from 'vitest';
import { stackLayers } from '../../../src/xray/layer-accounting.js';
import type { LayerFacts } from '../../../src/xray/layer-facts.js';

const file = (path: string, size: number, sha256 = path) => ({ path, kind: 'file' as const, size, sha256 });
const dir = (path: string) => ({ path, kind: 'dir' as const, size: 0 });
const layer = (entries: LayerFacts['entries'], whiteouts: LayerFacts['whiteouts'] = []): LayerFacts => ({
  entries,
  whiteouts,
  contentBytes: entries.reduce((s, e) => s + e.size, 0),
});

describe('layer accounting', () => {
  it('counts files added, changed and deleted per layer', () => {
    const { changes } = stackLayers([
      layer([dir('/etc'), file('/etc/a', 10), file('/etc/b', 20)]),
      layer([dir('/etc'), file('/etc/a', 15), file('/etc/c', 5)], [{ path: '/etc/b', opaque: false }]),
    ]);
    expect(changes[0]).toEqual({ added: { count: 2, bytes: 30 }, changed: { count: 0, bytes: 0 }, deleted: { count: 0, bytes: 0 } });
    expect(changes[1]).toEqual({ added: { count: 1, bytes: 5 }, changed: { count: 1, bytes: 15 }, deleted: { count: 1, bytes: 20 } });
  });

  it('hides everything a lower layer had under an opaque directory, but not what the same layer adds', () => {
    const { final, shadowed, changes } = stackLayers([
      layer([dir('/cache'), file('/cache/old1', 100), file('/cache/old2', 50)]),
      layer([dir('/cache'), file('/cache/new', 1)], [{ path: '/cache', opaque: true }]),
    ]);
    expect([...final.nodes()].map((n) => n.path).sort()).toEqual(['/cache', '/cache/new']);
    expect(changes[1]!.deleted).toEqual({ count: 2, bytes: 150 });
    expect(shadowed.map((s) => [s.path, s.how, s.addedIn, s.hiddenIn])).toEqual([
      ['/cache/old1', 'deleted', 0, 1],
      ['/cache/old2', 'deleted', 0, 1],
    ]);
  });

  it('records a deleted directory with every file in it, and an overwritten file', () => {
    const { shadowed } = stackLayers([
      layer([dir('/src'), file('/src/main.c', 300), file('/bin/app', 40)]),
      layer([file('/bin/app', 42)], [{ path: '/src', opaque: false }]),
    ]);
    expect(shadowed).toEqual([
      { path: '/src/main.c', size: 300, addedIn: 0, hiddenIn: 1, how: 'deleted' },
      { path: '/bin/app', size: 40, addedIn: 0, hiddenIn: 1, how: 'overwritten' },
    ]);
  });
});
