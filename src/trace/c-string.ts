import { pathFromBufferStart } from './path-encoding.js';

/**
 * strace prints strings C-style: printable ASCII as is, `\"` `\\` `\t` `\n` `\v` `\f` `\r`
 * escaped, every other byte (including all bytes >= 0x80) as octal (`\303`, `\74`, `\0`) or,
 * with -x, hex (`\xc3`). Paths in `-y` annotations (`3</a\76b>`) use the same escapes and
 * additionally escape `<` and `>`. These helpers turn that text back into the bytes and then
 * into a path string (see path-encoding.ts).
 */

export interface DecodedString {
  value: string;
  /** strace cut the string at -s bytes and printed `...` after the closing quote. */
  truncated: boolean;
}

/** Decode a quoted argument such as `"/etc/a\"b"` or `"long"...`; undefined for NULL, pointers. */
export function decodeCString(arg: string): DecodedString | undefined {
  if (arg.charCodeAt(0) !== 0x22 /* " */) return undefined;
  const close = findClosingQuote(arg, 1);
  if (close < 0) return undefined;
  const truncated = arg.startsWith('...', close + 1);
  return { value: unescapeC(arg, 1, close), truncated };
}

/** Index of the unescaped `"` that ends a string opened before `from`, or -1 if not before `end`. */
export function findClosingQuote(text: string, from: number, end = text.length): number {
  for (let i = from; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c /* \ */) i++;
    else if (c === 0x22) return i;
  }
  return -1;
}

/** Reused by unescapeC: the escaped text as bytes, decoded in place. */
let scratch = Buffer.alloc(256);

/** Decode the escaped text in text[start, end) to a path string. */
export function unescapeC(text: string, start: number, end: number): string {
  const slash = text.indexOf('\\', start);
  if (slash < 0 || slash >= end) return text.slice(start, end);
  if (scratch.length < end - start) scratch = Buffer.alloc(2 * (end - start));
  // Trace text is latin1 (see line-splitter.ts): one byte per char.
  const n = scratch.write(text.slice(start, end), 0, 'latin1');
  return pathFromBufferStart(scratch, unescapeBytes(scratch, 0, n, scratch));
}

/**
 * Decode the escaped text in src[start, end) into `into` (which needs end - start bytes at
 * least); returns the number of bytes written. Decoding never lengthens, so `into` may be
 * `src` itself with start 0: no byte is written before it has been read.
 */
export function unescapeBytes(src: Uint8Array, start: number, end: number, into: Uint8Array): number {
  let n = 0;
  let i = start;
  while (i < end) {
    const c = src[i]!;
    if (c !== 0x5c || i + 1 >= end) {
      into[n++] = c;
      i++;
      continue;
    }
    const e = src[i + 1]!;
    i += 2;
    if (e >= 0x30 && e <= 0x37) {
      let v = e - 0x30;
      for (let k = 0; k < 2 && i < end; k++) {
        const d = src[i]!;
        if (d < 0x30 || d > 0x37) break;
        v = v * 8 + (d - 0x30);
        i++;
      }
      into[n++] = v & 0xff;
    } else if (e === 0x78 /* x */ && i < end && isHex(src[i]!)) {
      let v = hexValue(src[i++]!);
      if (i < end && isHex(src[i]!)) v = v * 16 + hexValue(src[i++]!);
      into[n++] = v;
    } else {
      into[n++] = simpleEscape(e);
    }
  }
  return n;
}

function simpleEscape(e: number): number {
  switch (e) {
    case 0x6e: return 0x0a; // n
    case 0x74: return 0x09; // t
    case 0x72: return 0x0d; // r
    case 0x76: return 0x0b; // v
    case 0x66: return 0x0c; // f
    case 0x61: return 0x07; // a
    case 0x62: return 0x08; // b
    case 0x65: return 0x1b; // e
    default: return e; // \\ \" \' \? and anything unknown stand for themselves
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function hexValue(c: number): number {
  if (c <= 0x39) return c - 0x30;
  return (c | 0x20) - 0x61 + 10;
}
