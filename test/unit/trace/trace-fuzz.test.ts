import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseStraceLine } from '../../../src/trace/strace-line.js';
import { TraceParseError } from '../../../src/trace/trace-parse-error.js';
import { parseTrace, TraceParser } from '../../../src/trace/trace-parser.js';

const SAMPLES = fileURLToPath(new URL('../../samples/strace/', import.meta.url));
const REAL_LINES = readdirSync(SAMPLES)
  .filter((f) => f.endsWith('.log'))
  .flatMap((f) => readFileSync(SAMPLES + f, 'latin1').split('\n').filter(Boolean));

/** mulberry32: small, fast, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY = ['"', '\\', '<', '>', '(', ')', '[', ']', '{', '}', ',', '=', ' ', '...', '\\x', '\\7', '<... ', ' <unfinished ...>', ' resumed>', '+++ ', '--- ', '/*', '*/', 'AT_FDCWD<', '\r', '\u00ff', '\u0000', '-1 ', '?'];

function mutatedLines(seed: number, count: number): string[] {
  const rand = prng(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    let line = pick(REAL_LINES);
    const mutations = 1 + int(3);
    for (let m = 0; m < mutations; m++) {
      const at = int(line.length + 1);
      switch (int(8)) {
        case 0: line = line.slice(0, at); break; // truncated
        case 1: line = line.slice(0, at) + pick(NASTY) + line.slice(at); break;
        case 2: line = line.slice(0, at) + line.slice(at + 1 + int(20)); break;
        case 3: line = line.slice(0, at) + pick(REAL_LINES).slice(int(80)); break; // spliced
        case 4: line = line.replace(/^\d+/, String(int(40) + 1)); break; // other (unknown) pids
        case 5: line = Array.from({ length: int(60) }, () => String.fromCharCode(int(256))).join('').replaceAll('\n', '@'); break;
        case 6: line = pick(NASTY).repeat(1 + int(2000)); break;
        default: break; // keep some lines intact so state (forks, pending calls) builds up
      }
    }
    out.push(line);
  }
  return out;
}

describe('parser fuzzing', () => {
  const lines = mutatedLines(20240607, 20_000);

  it('parseStraceLine never throws on random, truncated and mutated lines', () => {
    const kinds = new Set<string>();
    for (const line of lines) kinds.add(parseStraceLine(line).kind);
    expect(kinds).toContain('malformed');
    expect(kinds).toContain('call');
  });

  it('the lenient parser never throws and accounts for every line, quickly', () => {
    const started = performance.now();
    const parser = new TraceParser({ initialCwd: '/app' });
    for (const [i, line] of lines.entries()) {
      if (i % 5000 === 0) parser.startFile({ source: `part-${i}` });
      parser.feed(line);
    }
    const s = parser.summary();
    expect(s.lines.total).toBe(lines.length);
    expect(s.lines.parsed + s.lines.skipped + s.lines.malformed).toBe(lines.length);
    for (const use of s.used) expect(use.path.startsWith('/')).toBe(true);
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('the strict parser throws nothing but TraceParseError', () => {
    let thrown = 0;
    const parser = new TraceParser({ strict: true });
    for (const line of lines) {
      try {
        parser.feed(line);
      } catch (error) {
        expect(error).toBeInstanceOf(TraceParseError);
        thrown++;
      }
    }
    expect(thrown).toBeGreaterThan(0);
    parser.summary();
  });

  it('the streaming entry point survives random chunking of the mutated trace', async () => {
    const rand = prng(7);
    const text = Buffer.from(lines.join('\n'), 'latin1');
    const chunks: Buffer[] = [];
    for (let i = 0; i < text.length; ) {
      const size = 1 + Math.floor(rand() * 4096);
      chunks.push(text.subarray(i, i + size));
      i += size;
    }
    const s = await parseTrace(chunks);
    expect(s.lines.total).toBe(lines.length);
  });
});
