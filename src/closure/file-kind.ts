import type { FsContentKind } from './fs-index.js';

/** How many leading bytes the kernel reads to recognise a script (BINPRM_BUF_SIZE). */
export const SHEBANG_BUFFER_SIZE = 256;

export function isElf(firstBytes: Uint8Array): boolean {
  return (
    firstBytes.length >= 4 &&
    firstBytes[0] === 0x7f &&
    firstBytes[1] === 0x45 &&
    firstBytes[2] === 0x4c &&
    firstBytes[3] === 0x46
  );
}

export interface Shebang {
  interpreter: string;
  /** The single optional argument: everything after the interpreter, trimmed, spaces kept. */
  argument?: string;
}

/**
 * The interpreter line of a script, as Linux's binfmt_script reads it: only the first 256
 * bytes count; the line ends at a newline (or, without one, at the end of those bytes, provided
 * the interpreter name itself is complete); leading and trailing spaces and tabs are dropped;
 * the interpreter ends at the first space, tab or NUL; the rest is one argument.
 * Undefined when the bytes are not a script the kernel would run.
 */
export function parseShebang(firstBytes: Uint8Array): Shebang | undefined {
  const line = shebangLine(firstBytes);
  return line === undefined ? undefined : splitShebangLine(line);
}

/** The raw `#!` line without `#!` (what `FsEntry.shebang` stores), cut as the kernel cuts it. */
export function shebangLine(firstBytes: Uint8Array): string | undefined {
  if (firstBytes.length < 2 || firstBytes[0] !== 0x23 || firstBytes[1] !== 0x21) return undefined;
  // The kernel's buffer is zero-padded and its last byte is always a terminator.
  const buffer = Buffer.alloc(SHEBANG_BUFFER_SIZE);
  buffer.set(firstBytes.subarray(0, SHEBANG_BUFFER_SIZE));
  let end = buffer.indexOf(0x0a);
  if (end === -1) {
    end = SHEBANG_BUFFER_SIZE - 1;
    let start = 2;
    while (start < end && isSpaceTab(buffer[start]!)) start += 1;
    if (start === end) return undefined;
    let terminator = start;
    while (terminator < end && !isTerminator(buffer[terminator]!)) terminator += 1;
    if (terminator === end) return undefined; // the interpreter name itself was cut off
  }
  const nul = buffer.indexOf(0, 2);
  if (nul !== -1 && nul < end) end = nul;
  return buffer.toString('utf8', 2, end);
}

/** Splits a `#!` line (without `#!`) into interpreter and argument; undefined when empty. */
export function splitShebangLine(line: string): Shebang | undefined {
  const cut = line.indexOf('\0');
  const text = (cut === -1 ? line : line.slice(0, cut)).replace(/^[ \t]+|[ \t]+$/g, '');
  if (text === '') return undefined;
  const match = /^([^ \t]+)[ \t]*(.*)$/s.exec(text)!;
  const interpreter = match[1]!;
  const argument = match[2]!;
  return argument === '' ? { interpreter } : { interpreter, argument };
}

/** What the tar walk records for a regular file from its first bytes. */
export function sniffContent(firstBytes: Uint8Array): { kind: FsContentKind; shebang?: string } {
  if (isElf(firstBytes)) return { kind: 'elf' };
  const line = shebangLine(firstBytes);
  if (line !== undefined && splitShebangLine(line) !== undefined) return { kind: 'script', shebang: line };
  return { kind: 'other' };
}

function isSpaceTab(byte: number): boolean {
  return byte === 0x20 || byte === 0x09;
}

function isTerminator(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x00;
}
