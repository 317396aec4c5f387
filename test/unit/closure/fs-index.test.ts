import { describe, expect, it } from 'vitest';
import { FsIndex } from '../../../src/closure/fs-index.js';
import { LayoutBuilder } from './debian-layout.js';

describe('FsIndex', () => {
  it('normalises paths and hardlink targets as it adds entries', () => {
    const index = new FsIndex();
    index.add({ path: './usr/bin/', type: 'directory', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1 });
    index.add({ path: 'usr/bin/perl5', type: 'hardlink', linkname: './usr/bin/perl', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 1 });
    expect(index.has('/usr/bin')).toBe(true);
    expect(index.get('/usr/bin/perl5')?.linkname).toBe('/usr/bin/perl');
  });

  it('keeps symlink targets as stored', () => {
    const { index } = new LayoutBuilder().link('/bin', 'usr/bin');
    expect(index.get('/bin')?.linkname).toBe('usr/bin');
  });

  it('lets a later entry for the same path win, keeping the first position', () => {
    const { index } = new LayoutBuilder().file('/a', { size: 1 }).file('/b').file('/a', { size: 2 });
    expect(index.get('/a')?.size).toBe(2);
    expect([...index.entries()].map((e) => e.path)).toEqual(['/a', '/b']);
    expect(index.size).toBe(2);
  });

  it('lists the children of a directory, sorted, and sees later additions', () => {
    const builder = new LayoutBuilder().dir('/').dir('/etc').file('/etc/passwd').file('/etc/group');
    expect(builder.index.children('/etc')).toEqual(['/etc/group', '/etc/passwd']);
    expect(builder.index.children('/')).toEqual(['/etc']);
    builder.file('/etc/hosts');
    expect(builder.index.children('/etc')).toEqual(['/etc/group', '/etc/hosts', '/etc/passwd']);
    expect(builder.index.children('/nowhere')).toEqual([]);
  });

  it('stores no absent optional fields', () => {
    const { index } = new LayoutBuilder().dir('/etc');
    expect(Object.keys(index.get('/etc')!)).toEqual(['path', 'type', 'mode', 'uid', 'gid', 'size', 'mtime']);
  });
});
