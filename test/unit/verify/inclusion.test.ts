import { describe, expect, it } from 'vitest';
import type { Reason } from '../../../src/closure/closure.js';
import { FsIndex } from '../../../src/closure/fs-index.js';
import { applyExcludes, globToRegExp, inclusionSeeds, modeOverrides, parseIncludePath, parseIncludePathFile, shellPaths } from '../../../src/build/seeds.js';

describe('--include-path PATH[:MODE]', () => {
  it('takes a plain absolute path', () => {
    expect(parseIncludePath('/etc/ssl/certs/')).toEqual({ path: '/etc/ssl/certs', from: '--include-path' });
  });
  it('reads a trailing octal mode', () => {
    expect(parseIncludePath('/app/run.sh:0755')).toEqual({ path: '/app/run.sh', mode: 0o755, from: '--include-path' });
    expect(parseIncludePath('/app/secret:600').mode).toBe(0o600);
  });
  it('keeps a colon that is not followed by an octal mode as part of the path', () => {
    expect(parseIncludePath('/data/a:b')).toEqual({ path: '/data/a:b', from: '--include-path' });
    expect(parseIncludePath('/data/a:999').path).toBe('/data/a:999');
  });
  it('refuses a relative path, naming the flag', () => {
    expect(() => parseIncludePath('etc/passwd')).toThrow(/--include-path "etc\/passwd": expected an absolute PATH/);
  });
  it('reads a file of paths with comments and blank lines', () => {
    expect(parseIncludePathFile('# certs\n/etc/ssl/certs\n\n  /app/run.sh:0700  \n', 'keep.txt')).toEqual([
      { path: '/etc/ssl/certs', from: '--include-path-file keep.txt' },
      { path: '/app/run.sh', mode: 0o700, from: '--include-path-file keep.txt' },
    ]);
  });
});

describe('inclusion seeds', () => {
  const idx = new FsIndex();
  const add = (path: string, type: 'file' | 'directory' | 'symlink', linkname?: string) => idx.add({ path, type, mode: 0o755, uid: 0, gid: 0, size: 1, mtime: 0, linkname });
  add('/usr', 'directory');
  add('/usr/bin', 'directory');
  add('/bin', 'symlink', 'usr/bin');
  add('/usr/bin/sh', 'symlink', 'dash');
  for (const tool of ['dash', 'ls', 'sed', 'env']) add(`/usr/bin/${tool}`, 'file');

  it('--include-shell finds a shell and the common tools the image has', () => {
    expect(shellPaths(idx)).toEqual(['/bin/sh', '/bin/ls', '/bin/sed', '/bin/env']);
  });

  it('records every flag as an include reason', () => {
    const seeds = inclusionSeeds({ includePaths: [parseIncludePath('/app/run.sh:0755')], includeBins: ['/usr/bin/dash'], includeShell: false, preservePaths: ['/srv/data'] }, idx);
    expect(seeds).toEqual([
      { path: '/app/run.sh', reason: { kind: 'include', detail: '--include-path (mode 755)' } },
      { path: '/usr/bin/dash', reason: { kind: 'include', detail: '--include-bin' } },
      { path: '/srv/data', reason: { kind: 'include', detail: '--preserve-path' } },
    ]);
    expect(modeOverrides({ includePaths: [parseIncludePath('/bin/ls:0700'), parseIncludePath('/x')], includeBins: [], includeShell: false, preservePaths: [] }, idx)).toEqual(new Map([['/usr/bin/ls', 0o700]]));
  });
});

describe('--exclude globs', () => {
  it('* and ? stay within a name, ** crosses directories', () => {
    expect(globToRegExp('/usr/share/doc/*').test('/usr/share/doc/bash')).toBe(true);
    expect(globToRegExp('/usr/lib/*.a').test('/usr/lib/x/libc.a')).toBe(false);
    expect(globToRegExp('/usr/lib/**/*.a').test('/usr/lib/x/libc.a')).toBe(true);
    expect(globToRegExp('/usr/lib/**/*.a').test('/usr/lib/libc.a')).toBe(true);
    expect(globToRegExp('/var/log/?.log').test('/var/log/a.log')).toBe(true);
    expect(globToRegExp('/var/log/[ab].log').test('/var/log/c.log')).toBe(false);
    expect(globToRegExp('/var/log/[!ab].log').test('/var/log/c.log')).toBe(true);
  });

  it('treats dots and other RegExp characters literally', () => {
    expect(globToRegExp('/etc/a.conf').test('/etc/aXconf')).toBe(false);
    expect(globToRegExp('/etc/a+b(1)').test('/etc/a+b(1)')).toBe(true);
  });

  it('drops matches and what is under them, warns about traced ones, spares preserved paths and the root', () => {
    const traced: Reason = { kind: 'traced', detail: 'openat' };
    const parent: Reason = { kind: 'parent' };
    const keep = new Map<string, Reason[]>([
      ['/', [parent]],
      ['/usr/share/doc', [parent]],
      ['/usr/share/doc/x/copyright', [{ kind: 'include', detail: '--include-path' }]],
      ['/app/cache', [traced]],
      ['/srv/data/cache', [{ kind: 'include', detail: '--preserve-path' }]],
      ['/usr/bin/python3', [{ kind: 'executed' }]],
    ]);
    const result = applyExcludes(keep, ['/usr/share/doc', 'cache'], ['/srv/data']);
    expect(result.dropped).toEqual(['/app/cache', '/usr/share/doc', '/usr/share/doc/x/copyright']);
    expect(result.droppedTraced).toEqual(['/app/cache']);
    expect([...result.keep.keys()]).toEqual(['/', '/srv/data/cache', '/usr/bin/python3']);
  });
});
