import { describe, expect, it } from 'vitest';
import { FsIndex, type FsEntry } from '../../../src/closure/fs-index.js';
import { diffConfigs, diffFilesystems } from '../../../src/compare/diff-indexes.js';

function index(entries: Array<[string, FsEntry['type'], number?]>): FsIndex {
  const idx = new FsIndex();
  for (const [path, type, size] of entries) idx.add({ path, type, mode: 0o644, uid: 0, gid: 0, size: size ?? 0, mtime: 0, linkname: type === 'symlink' ? 'x' : undefined });
  return idx;
}

const fat = index([
  ['/usr', 'directory'],
  ['/usr/bin/python3', 'file', 6000],
  ['/usr/bin/perl', 'file', 3000],
  ['/usr/share/doc/a/copyright', 'file', 500],
  ['/usr/lib/x86_64-linux-gnu/libc.so.6', 'file', 2000],
  ['/usr/lib/x86_64-linux-gnu/libperl.so', 'file', 4000],
  ['/bin', 'symlink'],
  ['/etc/hostname', 'file', 0],
]);
const slim = index([
  ['/usr', 'directory'],
  ['/usr/bin/python3', 'file', 6000],
  ['/usr/lib/x86_64-linux-gnu/libc.so.6', 'file', 2000],
  ['/bin', 'symlink'],
  ['/app/new.txt', 'file', 10],
]);

describe('diff of two filesystems', () => {
  const diff = diffFilesystems(fat, slim, { top: 10 });

  it('counts regular files and their bytes on each side', () => {
    expect(diff.regularFiles).toEqual({ a: 6, b: 3 });
    expect(diff.contentBytes).toEqual({ a: 15500, b: 8010 });
  });

  it('lists the directories whose bytes differ, largest difference first, up to three levels deep', () => {
    expect(diff.directories).toEqual([
      { directory: '/usr/lib/x86_64-linux-gnu', bytesA: 6000, bytesB: 2000, difference: 4000 },
      { directory: '/usr/bin', bytesA: 9000, bytesB: 6000, difference: 3000 },
      { directory: '/usr/share/doc', bytesA: 500, bytesB: 0, difference: 500 },
      { directory: '/app', bytesA: 0, bytesB: 10, difference: -10 },
    ]);
  });

  it('lists files and links only in one of them, largest first, with totals', () => {
    expect(diff.onlyInA.count).toBe(4);
    expect(diff.onlyInA.bytes).toBe(7500);
    expect(diff.onlyInA.largest.map((f) => f.path)).toEqual(['/usr/lib/x86_64-linux-gnu/libperl.so', '/usr/bin/perl', '/usr/share/doc/a/copyright', '/etc/hostname']);
    expect(diff.onlyInB).toEqual({ count: 1, bytes: 10, largest: [{ path: '/app/new.txt', bytes: 10 }] });
  });

  it('keeps only the top N', () => {
    const top = diffFilesystems(fat, slim, { top: 1 });
    expect(top.directories).toHaveLength(1);
    expect(top.onlyInA.largest).toHaveLength(1);
    expect(top.onlyInA.count).toBe(4);
  });
});

describe('diff of two configs', () => {
  it('compares Env and Labels entry by entry and other fields as values, treating empty as absent', () => {
    const a = { Cmd: ['python3', 'app.py'], Env: ['PATH=/usr/bin', 'LANG=C'], Labels: { team: 'web' }, Volumes: {}, User: '', Image: 'sha256:abc' };
    const b = { Cmd: ['python3', 'app.py'], Env: ['PATH=/usr/local/bin:/usr/bin', 'LANG=C'], Labels: { team: 'web', 'slimify.version': '0.1.0' }, Volumes: null, Image: '' };
    expect(diffConfigs(a, b)).toEqual([
      { field: 'Env.PATH', a: '/usr/bin', b: '/usr/local/bin:/usr/bin' },
      { field: 'Labels.slimify.version', a: null, b: '0.1.0' },
    ]);
  });
});
