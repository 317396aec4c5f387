import { describe, expect, it } from 'vitest';
import { ancestors, basename, dirname, isWithin, join, normalise } from '../../../src/closure/paths.js';

describe('path helpers', () => {
  it('normalises tar names and odd spellings to absolute paths', () => {
    expect(normalise('./usr/bin/')).toBe('/usr/bin');
    expect(normalise('usr//lib/./x')).toBe('/usr/lib/x');
    expect(normalise('/a/b/../c')).toBe('/a/c');
    expect(normalise('/..')).toBe('/');
    expect(normalise('.')).toBe('/');
  });

  it('takes dirname and basename', () => {
    expect(dirname('/usr/bin/ls')).toBe('/usr/bin');
    expect(dirname('/usr')).toBe('/');
    expect(dirname('/')).toBe('/');
    expect(basename('/usr/bin/ls')).toBe('ls');
  });

  it('joins, an absolute second part replacing the first', () => {
    expect(join('/usr/lib', '../lib64/x')).toBe('/usr/lib64/x');
    expect(join('/usr/lib', '/etc/x')).toBe('/etc/x');
  });

  it('lists proper ancestors from the root down', () => {
    expect(ancestors('/usr/bin/ls')).toEqual(['/', '/usr', '/usr/bin']);
    expect(ancestors('/etc')).toEqual(['/']);
    expect(ancestors('/')).toEqual([]);
  });

  it('tells whether a path lies within a directory', () => {
    expect(isWithin('/app/x', '/app')).toBe(true);
    expect(isWithin('/app', '/app')).toBe(true);
    expect(isWithin('/apple', '/app')).toBe(false);
    expect(isWithin('/anything', '/')).toBe(true);
  });
});
