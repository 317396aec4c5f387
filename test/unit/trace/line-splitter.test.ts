import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../src/trace/line-splitter.js';

function split(chunks: (string | Buffer)[], max?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter(max);
  for (const chunk of chunks) splitter.push(chunk, (line) => lines.push(line));
  splitter.end((line) => lines.push(line));
  return lines;
}

describe('LineSplitter', () => {
  it('joins lines cut across chunks and flushes a last line without newline', () => {
    expect(split(['1  a', 'b(', ') = 0\n2  c() = 0\n3', '  d() = 0'])).toEqual(['1  ab() = 0', '2  c() = 0', '3  d() = 0']);
  });

  it('keeps bytes >= 0x80 as latin1 chars, one per byte', () => {
    expect(split([Buffer.from([0x61, 0xc3, 0x0a, 0xa9, 0x62])])).toEqual(['a\u00c3', '\u00a9b']);
  });

  it('cuts lines longer than the limit and drops their rest', () => {
    expect(split(['1234', '5678', '9\nok\n'], 6)).toEqual(['123456', 'ok']);
  });

  it('takes plain Uint8Arrays, and strings as latin1 bytes', () => {
    const bytes = new TextEncoder().encode('1  a() = 0\n2  b');
    expect(split([bytes.subarray(0, 5), bytes.subarray(5), '() = 0\n'])).toEqual(['1  a() = 0', '2  b() = 0']);
    expect(split(['a\u0100b\n'])).toEqual(['a\u0000b']); // a char above 0xff stands for its low byte
  });

  it('keeps cutting an overlong line until its newline, however many chunks it spans', () => {
    expect(split(['ab', 'cd', 'ef', 'gh\nij\n', 'k'], 3)).toEqual(['abc', 'ij', 'k']);
    expect(split(['abcdefgh\nxy'], 3)).toEqual(['abcdefgh', 'xy']); // complete lines are not cut
  });

  it('does not emit anything for an empty input or a trailing newline', () => {
    expect(split([])).toEqual([]);
    expect(split(['a\n'])).toEqual(['a']);
  });
});
