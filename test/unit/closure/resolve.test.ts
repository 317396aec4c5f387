import { describe, expect, it } from 'vitest';
import { resolve } from '../../../src/closure/resolve.js';
import { debianLayout, LayoutBuilder, MULTIARCH } from './debian-layout.js';

describe('resolve, walking paths like the kernel', () => {
  const { index } = debianLayout();

  it('follows root links and relative symlinks, reporting each link in order', () => {
    expect(resolve(index, '/lib64/ld-linux-x86-64.so.2')).toEqual({
      final: `${MULTIARCH}/ld-linux-x86-64.so.2`,
      symlinks: ['/lib64', '/usr/lib64/ld-linux-x86-64.so.2'],
      visited: ['/usr', '/usr/lib64', '/usr/lib', MULTIARCH],
    });
  });

  it('follows absolute symlink targets from the root', () => {
    expect(resolve(index, '/etc/ssl/certs/4042bcee.0').final).toBe('/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt');
    expect(resolve(index, '/etc/ssl/certs/4042bcee.0').symlinks).toEqual(['/etc/ssl/certs/4042bcee.0', '/etc/ssl/certs/ISRG_Root_X1.pem']);
  });

  it('takes .. after a symlink physically, not lexically', () => {
    // Lexically /bin/../etc is /etc; physically /bin is /usr/bin, so it is /usr/etc (absent).
    expect(resolve(index, '/bin/../etc').final).toBeUndefined();
    expect(resolve(index, '/bin/../lib/x86_64-linux-gnu/libc.so.6').final).toBe(`${MULTIARCH}/libc.so.6`);
  });

  it('does not follow the last symlink with followLast: false (lstat)', () => {
    expect(resolve(index, '/bin/sh', { followLast: false })).toMatchObject({ final: '/usr/bin/sh', symlinks: ['/bin'] });
    expect(resolve(index, '/bin/sh').final).toBe('/usr/bin/dash');
  });

  it('reports missing paths, files used as directories and the root', () => {
    expect(resolve(index, '/usr/bin/nope')).toMatchObject({ final: undefined, error: 'ENOENT' });
    expect(resolve(index, '/usr/bin/ls/x')).toMatchObject({ final: undefined, error: 'ENOTDIR' });
    expect(resolve(index, '/').final).toBe('/');
    expect(resolve(index, '/usr/..').final).toBe('/');
  });

  it('gives up with ELOOP after 40 links', () => {
    const loop = new LayoutBuilder().link('/a', 'b').link('/b', 'a').index;
    const result = resolve(loop, '/a');
    expect(result.error).toBe('ELOOP');
    expect(result.final).toBeUndefined();
    expect(result.symlinks).toHaveLength(40);
  });

  it('follows a chain of exactly 40 links', () => {
    const builder = new LayoutBuilder().file('/target');
    for (let i = 0; i < 40; i++) builder.link(`/l${i}`, i === 39 ? 'target' : `l${i + 1}`);
    expect(resolve(builder.index, '/l0').final).toBe('/target');
  });

  it('reports a dangling symlink as not existing, with the link traversed', () => {
    const { index: dangling } = new LayoutBuilder().link('/etc/mtab', '../proc/self/mounts').dir('/etc');
    expect(resolve(dangling, '/etc/mtab')).toMatchObject({ final: undefined, symlinks: ['/etc/mtab'] });
  });
});
