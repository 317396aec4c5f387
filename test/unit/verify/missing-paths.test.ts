import { describe, expect, it } from 'vitest';
import { FsIndex, type FsEntry } from '../../../src/closure/fs-index.js';
import { includeFlags, mergeMissing, pathsMissingFromSlim, pathsUsedButNotKept, shellWord } from '../../../src/verify/missing-paths.js';

function index(entries: Array<Partial<FsEntry> & { path: string; type: FsEntry['type'] }>): FsIndex {
  const idx = new FsIndex();
  for (const e of entries) idx.add({ mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0, ...e });
  return idx;
}

// a Debian-like layout: /lib is a link to usr/lib
const original = index([
  { path: '/', type: 'directory' },
  { path: '/usr', type: 'directory' },
  { path: '/usr/lib', type: 'directory' },
  { path: '/lib', type: 'symlink', linkname: 'usr/lib' },
  { path: '/usr/lib/python3.11', type: 'directory' },
  { path: '/usr/lib/python3.11/decimal.py', type: 'file', size: 320 },
  { path: '/usr/lib/python3.11/numbers.py', type: 'file', size: 12 },
  { path: '/usr/lib/libmpdec.so.3', type: 'file', size: 200 },
  { path: '/etc', type: 'directory' },
]);
const miss = (path: string) => ({ path, syscalls: ['openat'], errnos: ['ENOENT'] });

describe('paths the slim image looked for', () => {
  it('lists lookups that failed in the slim image and exist in the original', () => {
    const found = pathsMissingFromSlim({ slimMissing: [miss('/usr/lib/python3.11/decimal.py')], originalMissing: [], original });
    expect(found).toEqual([{ path: '/usr/lib/python3.11/decimal.py', inOriginal: '/usr/lib/python3.11/decimal.py', syscalls: ['openat'], seen: 'slim-lookup' }]);
  });

  it('resolves symlinks on the way through the original, keeping the looked-up path', () => {
    const [found] = pathsMissingFromSlim({ slimMissing: [miss('/lib/libmpdec.so.3')], originalMissing: [], original });
    expect(found).toMatchObject({ path: '/lib/libmpdec.so.3', inOriginal: '/usr/lib/libmpdec.so.3' });
  });

  it('ignores lookups that also failed in the traced run of the original (normal searching)', () => {
    expect(pathsMissingFromSlim({ slimMissing: [miss('/usr/lib/python3.11/numbers.py')], originalMissing: [miss('/usr/lib/python3.11/numbers.py')], original })).toEqual([]);
  });

  it('ignores paths the original does not have either, and the pseudo filesystems', () => {
    expect(pathsMissingFromSlim({ slimMissing: [miss('/etc/ld.so.preload'), miss('/proc/self/fd/3'), miss('/dev/shm/x')], originalMissing: [], original })).toEqual([]);
  });

  it('lists each path once, sorted', () => {
    const found = pathsMissingFromSlim({ slimMissing: [miss('/usr/lib/python3.11/numbers.py'), miss('/usr/lib/python3.11/decimal.py'), miss('/usr/lib/python3.11/numbers.py')], originalMissing: [], original });
    expect(found.map((f) => f.path)).toEqual(['/usr/lib/python3.11/decimal.py', '/usr/lib/python3.11/numbers.py']);
  });
});

describe('paths the original used and the slim image lacks', () => {
  const use = (path: string) => ({ path, syscalls: ['openat'] });
  it('lists used files that are not kept, skipping kept ones, directories, the root and created files', () => {
    const found = pathsUsedButNotKept({
      originalUsed: [use('/'), use('/usr/lib/python3.11'), use('/usr/lib/python3.11/decimal.py'), use('/usr/lib/python3.11/numbers.py'), use('/tmp/made-at-run-time'), use('/proc/self/maps')],
      original,
      kept: new Set(['/usr/lib/python3.11/numbers.py']),
    });
    expect(found).toEqual([{ path: '/usr/lib/python3.11/decimal.py', inOriginal: '/usr/lib/python3.11/decimal.py', syscalls: ['openat'], seen: 'original-use' }]);
  });

  it('merges both sources, one entry per path, the slim lookup first', () => {
    const a = pathsMissingFromSlim({ slimMissing: [miss('/usr/lib/python3.11/decimal.py')], originalMissing: [], original });
    const b = pathsUsedButNotKept({ originalUsed: [use('/usr/lib/python3.11/decimal.py'), use('/usr/lib/python3.11/numbers.py')], original, kept: new Set() });
    expect(mergeMissing(a, b).map((m) => [m.path, m.seen])).toEqual([
      ['/usr/lib/python3.11/decimal.py', 'slim-lookup'],
      ['/usr/lib/python3.11/numbers.py', 'original-use'],
    ]);
  });
});

describe('include flags', () => {
  it('prints one --include-path per path, quoting what a shell would split', () => {
    expect(includeFlags([{ path: '/a/b.py', inOriginal: '/a/b.py', syscalls: [], seen: 'slim-lookup' }, { path: "/a/it's here", inOriginal: '', syscalls: [], seen: 'slim-lookup' }])).toBe(
      "--include-path /a/b.py --include-path '/a/it'\\''s here'",
    );
    expect(shellWord('/usr/lib/x86_64-linux-gnu/libc.so.6')).toBe('/usr/lib/x86_64-linux-gnu/libc.so.6');
  });
});
