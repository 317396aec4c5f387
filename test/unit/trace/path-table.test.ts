import { describe, expect, it } from 'vitest';
import { PathTable, hashBytes } from '../../../src/trace/path-table.js';
import { SummaryBuilder } from '../../../src/trace/trace-summary.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function add(table: PathTable<string>, s: string): number {
  const b = bytes(s);
  expect(table.find(b, 0, b.length)).toBe(-1);
  return table.add(b, 0, b.length, s);
}

describe('PathTable', () => {
  it('finds what was added, by the bytes only, wherever they sit in a buffer', () => {
    const table = new PathTable<string>();
    const a = add(table, '/etc/passwd');
    const b = add(table, '/etc/group');
    const line = bytes('1  openat(AT_FDCWD</>, "/etc/passwd", O_RDONLY) = 3</etc/group>');
    expect(table.find(line, 24, 35)).toBe(a);
    expect(table.find(line, 52, 62)).toBe(b);
    expect(table.find(line, 24, 34)).toBe(-1); // a prefix is another path
    expect(table.find(line, 23, 35)).toBe(-1);
    expect(table.values).toEqual(['/etc/passwd', '/etc/group']);
  });

  it('tells apart strings whose full 32-bit hashes collide', () => {
    // Found by search: FNV-1a gives both the same 32-bit hash, so they also share a slot.
    expect(hashBytes(bytes('/p58458'), 0, 7)).toBe(hashBytes(bytes('/p905806'), 0, 8));
    const same = bytes('/p58459');
    const table = new PathTable<string>();
    const a = add(table, '/p58458');
    const b = add(table, '/p905806');
    expect(a).not.toBe(b);
    expect(table.find(bytes('/p58458'), 0, 7)).toBe(a);
    expect(table.find(bytes('/p905806'), 0, 8)).toBe(b);
    expect(table.find(same, 0, 7)).toBe(-1);
  });

  it('keeps every entry findable as it grows its slots, ids and byte pool', () => {
    const table = new PathTable<string>();
    const names = Array.from({ length: 20_000 }, (_, i) => `/usr/lib/python3/site-packages/pkg${i % 97}/mod${i}.py`);
    const ids = names.map((name) => add(table, name));
    expect(ids).toEqual(names.map((_, i) => i));
    expect(table.values.length).toBe(names.length);
    for (const [i, name] of names.entries()) {
      const b = bytes(name);
      expect(table.find(b, 0, b.length)).toBe(i);
    }
    expect(table.find(bytes('/usr/lib/python3/site-packages/pkg0/mod97.pyc'), 0, 45)).toBe(-1);
  });

  it('treats every byte value alike, the empty string included', () => {
    const table = new PathTable<string>();
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const id = table.add(all, 0, 256, 'all');
    const empty = table.add(all, 5, 5, 'empty');
    expect(table.find(Buffer.from(all), 0, 256)).toBe(id);
    expect(table.find(Buffer.alloc(0), 0, 0)).toBe(empty);
    const flipped = Buffer.from(all);
    flipped[0xe9] = 0x69; // a high byte and its ASCII neighbour are different bytes
    expect(table.find(flipped, 0, 256)).toBe(-1);
  });
  it('keeps each entry\'s marks with it as the table grows', () => {
    const table = new PathTable<number>();
    const names = Array.from({ length: 5000 }, (_, i) => bytes(`/srv/data/file${i}`));
    for (const [i, b] of names.entries()) {
      table.add(b, 0, b.length, i);
      expect(table.marks()).toBe(0); // a new entry has none
      if (i % 3 === 0) table.mark(1 << (i % 31));
    }
    for (const [i, b] of names.entries()) {
      expect(table.find(b, 0, b.length)).toBe(i);
      expect(table.marks()).toBe(i % 3 === 0 ? 1 << (i % 31) : 0);
    }
    table.find(names[7]!, 0, names[7]!.length);
    table.mark(4);
    table.mark(8);
    expect(table.find(names[6]!, 0, names[6]!.length)).toBe(6);
    expect(table.marks()).toBe(1 << 6);
    table.find(names[7]!, 0, names[7]!.length);
    expect(table.marks()).toBe(12);
  });
});

describe('SummaryBuilder records', () => {
  it('gives one record per path, by string or by bytes', () => {
    const out = new SummaryBuilder();
    const a = out.record('/a/b/c/xx');
    const b = out.record('/q/b/c/xx');
    expect(a).not.toBe(b);
    expect(out.record('/a/b/c/xx')).toBe(a);
    const line = bytes('x /q/b/c/xx y');
    expect(out.recordBytes(line, 2, 11)).toBe(b);
    expect([a.path, b.path]).toEqual(['/a/b/c/xx', '/q/b/c/xx']);
  });

  it('keeps latin1 and wider chars apart: é (one byte) is not the two bytes of its UTF-8', () => {
    const out = new SummaryBuilder();
    const latin = out.record('/tmp/caf\u00e9');
    const utf8Bytes = out.record('/tmp/caf\u00c3\u00a9');
    const wide = out.record('/tmp/\u65e5\u672c');
    const lowBytes = out.record('/tmp/\u00e5\u002c'); // the low bytes of the two chars above
    expect(new Set([latin, utf8Bytes, wide, lowBytes]).size).toBe(4);
    expect(out.record('/tmp/\u65e5\u672c')).toBe(wide);
    expect(out.recordBytes(Buffer.from([0x2f, 0x74, 0x6d, 0x70, 0x2f, 0x63, 0x61, 0x66, 0xe9]), 0, 9)).toBe(latin);
    expect(wide.path).toBe('/tmp/\u65e5\u672c');
  });
});
