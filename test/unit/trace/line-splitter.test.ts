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

  it('does not emit anything for an empty input or a trailing newline', () => {
    expect(split([])).toEqual([]);
    expect(split(['a\n'])).toEqual(['a']);
  });
});
