import { describe, expect, it } from 'vitest';
import { normalizeAbsolute, resolvePath } from '../../../src/trace/path-resolve.js';

describe('resolvePath', () => {
  it('joins a relative path to its base', () => {
    expect(resolvePath('/usr', 'lib')).toEqual({ path: '/usr/lib' });
    expect(resolvePath('/', 'etc/passwd')).toEqual({ path: '/etc/passwd' });
  });

  it('ignores the base for absolute paths', () => {
    expect(resolvePath('/usr', '/etc/hosts')).toEqual({ path: '/etc/hosts' });
  });

  it('normalises . and // exactly, without keeping a raw form', () => {
    expect(resolvePath('/usr', './share//doc/')).toEqual({ path: '/usr/share/doc' });
  });

  it('keeps the raw join when .. was applied lexically, because symlinks may make it wrong', () => {
    expect(resolvePath('/usr/lib', '../bin/../share/./doc')).toEqual({ path: '/usr/share/doc', raw: '/usr/lib/../bin/../share/./doc' });
  });

  it('stops .. at the root', () => {
    expect(normalizeAbsolute('/../../etc')).toBe('/etc');
    expect(normalizeAbsolute('/a/..')).toBe('/');
  });

  it('does not mistake names starting with dots for . or ..', () => {
    expect(resolvePath('/root', '.cache/..x/...')).toEqual({ path: '/root/.cache/..x/...' });
  });
});
