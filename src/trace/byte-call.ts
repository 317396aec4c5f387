import { END_OF_LIST, isErrnoChar, isNameChar, nest, numericValueOf } from './strace-line.js';

/**
 * The common trace line, a complete call such as
 *
 *   3128  openat(AT_FDCWD</app>, "/etc/x", O_RDONLY) = 3</etc/x>
 *
 * scanned in place in the Buffer it was read into: no string is made for the line. This is a
 * fast path in front of LineScan/ScannedCall (strace-line.ts), and it gives the same positions
 * for the lines it takes; anything else it declines (scanPid gives -1, scanRest DECLINE) and
 * the caller hands the line, as text, to LineScan. Declined: `+++` and `---` lines, malformed
 * ones and leading spaces. Unfinished and resumed lines are only cut into their parts; a
 * resumed call is scanned, once joined to its start, with scanCall.
 *
 * One instance is reused for every line: nothing here may be kept once the next line comes.
 */
export class ByteCall {
  bytes: Buffer = Buffer.alloc(0);
  pid = 0;
  nameStart = 0;
  nameEnd = 0;
  /** The arguments of an unfinished call, the tail of a resumed one, or `args) = result` of a complete one: bytes[partStart, partEnd). */
  partStart = 0;
  partEnd = 0;
  /** Number of top-level arguments, counted as ScannedCall.argc is. */
  argc = 0;
  /** Where the arguments start (just after `(`) and the index of the closing `)`. */
  argsStart = 0;
  argsEnd = 0;
  value: number | undefined;
  /** Set only when `value` is negative and an errno name follows it. */
  errno: string | undefined;
  /** The -y annotation of the returned fd, bytes[fdStart, fdEnd); fdStart -1 when absent. */
  fdStart = -1;
  fdEnd = -1;
  private lastErrno = '';
  /**
   * Whether the call has a backslash: most have none, and then nothing needs decoding. Every
   * loop over the arguments and the result's annotation sets it, so it covers any range that
   * is decoded (a range may run past the part a loop took it for: `3<a>\x41>`).
   */
  private escapes = false;
  /** Start and end (exclusive) of each argument, trimmed of spaces: [s0, e0, s1, e1, ...]. */
  private readonly spans: number[] = [];
  /** Per argument that starts with a C string, the index of its closing quote; -1 for the others. */
  private readonly stringEnds: number[] = [];

  /** Read the pid of the line bytes[start, end); returns where the text after it starts, or -1 to decline. */
  scanPid(bytes: Buffer, start: number, end: number): number {
    if (this.bytes !== bytes) this.bytes = bytes; // see PathBytes.point (fast-lines.ts)
    let i = start;
    let pid = 0;
    for (; i < end; i++) {
      const c = bytes[i]!;
      if (c < 0x30 || c > 0x39) break;
      pid = pid * 10 + (c - 0x30);
    }
    if (i === start || i - start > 10 || i >= end || bytes[i] !== 0x20) return -1;
    while (i < end && bytes[i] === 0x20) i++;
    this.pid = pid;
    return i < end ? i : -1;
  }

  /**
   * Cut the line from just after its pid (see scanPid) to `end` (no newline) into its name and
   * its part; DECLINE when the fast path does not take it. A complete call (CALL) is not
   * scanned yet: its part is `args) = result`, for scanCall once the caller knows it wants it.
   */
  scanRest(bytes: Buffer, i: number, end: number): ByteLineKind {
    if (bytes[i] === 0x3c) return this.scanResumed(bytes, i, end);
    this.nameStart = i;
    while (i < end && isNameChar(bytes[i]!)) i++;
    if (i === this.nameStart || i >= end || bytes[i] !== 0x28 /* ( */) return DECLINE;
    this.nameEnd = i;
    const body = i + 1;
    if (endsWith(bytes, body, end, UNFINISHED)) {
      this.partStart = body;
      this.partEnd = end - UNFINISHED.length;
      return UNFINISHED_CALL;
    }
    if (endsWith(bytes, body, end, DETACHED)) return DECLINE;
    this.partStart = body;
    this.partEnd = end;
    return CALL;
  }

  /** Scan `args) = result` in bytes[from, end) (as ScannedCall.scan); false when declined. */
  scanCall(bytes: Buffer, from: number, end: number): boolean {
    if (this.bytes !== bytes) this.bytes = bytes; // see PathBytes.point (fast-lines.ts)
    this.argsStart = from;
    this.argc = 0;
    this.escapes = false;
    const close = this.scanArgs(bytes, from, end);
    if (close < 0) return false;
    this.argsEnd = close;
    return this.scanResult(bytes, close + 1, end);
  }

  /** `<... name resumed>tail` from `i` (LineScan's resumed): the name, and the tail as the part. */
  private scanResumed(bytes: Buffer, i: number, end: number): ByteLineKind {
    if (!(end - i >= RESUMED_PREFIX.length && matches(bytes, i, RESUMED_PREFIX))) return DECLINE;
    const nameStart = i + RESUMED_PREFIX.length;
    const close = indexOfWord(bytes, RESUMED_SUFFIX, nameStart, end);
    if (close <= nameStart) return DECLINE;
    for (let k = nameStart; k < close; k++) if (!isNameChar(bytes[k]!)) return DECLINE;
    this.nameStart = nameStart;
    this.nameEnd = close;
    this.partStart = close + RESUMED_SUFFIX.length;
    this.partEnd = end;
    return RESUMED_CALL;
  }

  argStart(i: number): number {
    return this.spans[2 * i]!;
  }

  argEnd(i: number): number {
    return this.spans[2 * i + 1]!;
  }

  /** The index of the `"` closing the C string argument `i` starts with; -1 when it starts otherwise. */
  stringEnd(i: number): number {
    return this.stringEnds[i]!;
  }

  /** Whether bytes[start, end) (a string or annotation) holds a backslash (an escape to decode). */
  hasEscapes(start: number, end: number): boolean {
    if (!this.escapes) return false;
    for (let i = start; i < end; i++) if (this.bytes[i] === 0x5c) return true;
    return false;
  }

  /**
   * Index of the `"` closing a C string whose content starts at `i`, or -1 if not before
   * `end` (text-scan.ts skipQuoted): a backslash escapes the byte after it.
   */
  private closingQuote(i: number, end: number): number {
    const bytes = this.bytes;
    for (; i < end; i++) {
      const c = bytes[i];
      if (c === 0x22) return i;
      if (c === 0x5c) {
        this.escapes = true;
        i++;
      }
    }
    return -1;
  }

  /** Index of the `>` closing a -y annotation whose path starts at `i`, or -1 if not before `end`. */
  private annotationEnd(i: number, end: number): number {
    const bytes = this.bytes;
    for (; i < end; i++) {
      const c = bytes[i];
      if (c === 0x3e) return i;
      if (c === 0x5c) this.escapes = true;
    }
    return -1;
  }

  /** Index of the `/` ending a comment whose text starts at `from`, or -1. */
  private commentEnd(from: number, end: number): number {
    const bytes = this.bytes;
    for (let i = from; i + 1 < end; i++) {
      const c = bytes[i];
      if (c === 0x2a && bytes[i + 1] === 0x2f) return i + 1;
      if (c === 0x5c) this.escapes = true;
    }
    return -1;
  }

  /** The `}` closing a struct opened before `from` that holds none of `"</()[]{}`, or -1. */
  private flatStructEnd(from: number, end: number): number {
    const bytes = this.bytes;
    for (let i = from; i < end; i++) {
      const c = bytes[i]!;
      if (PLAIN[c] === 1 || c === 0x2c) continue;
      switch (c) {
        case 0x7d: return i;
        case 0x22: case 0x3c: case 0x2f: case 0x28: case 0x29: case 0x5b: case 0x5d: case 0x7b: return -1;
        case 0x5c: this.escapes = true;
      }
    }
    return -1;
  }

  /** ScannedCall.argsInclude: whether `word` (ASCII) occurs anywhere within the arguments. */
  argsInclude(word: Uint8Array): boolean {
    const bytes = this.bytes;
    const n = word.length;
    next: for (let at = this.argsEnd - n; at >= this.argsStart; at--) {
      for (let k = 0; k < n; k++) if (bytes[at + k] !== word[k]) continue next;
      return true;
    }
    return false;
  }

  /**
   * ScannedCall.scanArgs on bytes. The bytes that mean nothing here are passed by an inner loop
   * that only reads, and the scan's state lives in locals, not fields: V8 spends about 20
   * instructions on every byte it reads from a Buffer in a loop, and more in a loop that also
   * stores to an object (6% fewer instructions to scan a line than with the state in fields).
   */
  private scanArgs(bytes: Buffer, from: number, end: number): number {
    let depth = 0;
    let argFrom = from;
    let escapes = false;
    /** The first string of the argument being scanned: its opening and closing quotes. */
    let quoteOpen = -1;
    let quoteClose = -1;
    for (let i = from; i < end; i++) {
      let c = bytes[i]!;
      while (PLAIN[c] === 1) {
        if (++i === end) return -1;
        c = bytes[i]!;
      }
      switch (c) {
        case 0x28: case 0x5b: case 0x5d: case 0x7d: case 0x29: case 0x2c: { // ( [ ] } ) ,
          const next = nest(c, depth);
          if (next >= 0) {
            depth = next;
            break;
          }
          this.pushArg(argFrom, i, quoteOpen, quoteClose);
          argFrom = i + 1;
          quoteOpen = -1;
          if (next === END_OF_LIST) {
            if (escapes) this.escapes = true;
            return i;
          }
          depth = 0;
          break;
        }
        case 0x22: { // "
          const open = i;
          i = this.closingQuote(i + 1, end);
          if (i < 0) return -1;
          if (quoteOpen < 0) {
            quoteOpen = open;
            quoteClose = i;
          }
          break;
        }
        case 0x3c: { // < opens a -y annotation after an fd number or AT_FDCWD
          const p = i > from ? bytes[i - 1]! : 0;
          if ((p >= 0x30 && p <= 0x39) || p === 0x44 /* D */) {
            i = this.annotationEnd(i + 1, end);
            if (i < 0) return -1;
          }
          break;
        }
        case 0x2f: // /* comment */
          if (i + 1 < end && bytes[i + 1] === 0x2a) {
            i = this.commentEnd(i + 2, end);
            if (i < 0) return -1;
          }
          break;
        case 0x7b: { // { : a flat struct is skipped whole (ScannedCall's FLAT_STRUCT)
          const close = this.flatStructEnd(i + 1, end);
          if (close >= 0) i = close;
          else depth++;
          break;
        }
        case 0x5c: // \
          escapes = true;
          break;
      }
    }
    return -1;
  }

  /** Record the argument bytes[start, end), trimmed of spaces (one empty first argument is none: `vfork()`). */
  private pushArg(start: number, end: number, quoteOpen: number, quoteClose: number): void {
    const bytes = this.bytes;
    while (start < end && bytes[start] === 0x20) start++;
    while (end > start && bytes[end - 1] === 0x20) end--;
    if (end === start && this.argc === 0) return;
    this.spans[2 * this.argc] = start;
    this.spans[2 * this.argc + 1] = end;
    this.stringEnds[this.argc] = start === quoteOpen ? quoteClose : -1;
    this.argc++;
  }

  /** ScannedCall.scanResult on bytes: ` = value[<fd path>] [ERRNO (text)]` from `i`. */
  private scanResult(bytes: Buffer, i: number, end: number): boolean {
    while (i < end && bytes[i] === 0x20) i++;
    if (i >= end || bytes[i] !== 0x3d /* = */) return false;
    i++;
    while (i < end && bytes[i] === 0x20) i++;
    const start = i;
    while (i < end && bytes[i] !== 0x20 && bytes[i] !== 0x3c) i++;
    if (i === start) return false;
    this.value = numericValue(bytes, start, i);
    this.fdStart = -1;
    this.errno = undefined;
    if (i < end && bytes[i] === 0x3c) {
      const close = this.annotationEnd(i + 1, end);
      if (close < 0) return false;
      this.fdStart = i + 1;
      this.fdEnd = close;
      i = close + 1;
    }
    if (this.value !== undefined && this.value < 0) {
      while (i < end && bytes[i] === 0x20) i++;
      const e = i;
      while (i < end && isErrnoChar(bytes[i]!)) i++;
      if (i > e) this.errno = this.errnoOf(bytes, e, i);
    }
    return true;
  }

  /** The errno name in bytes[start, end): the previous one again, mostly (ENOENT), so no new string. */
  private errnoOf(bytes: Buffer, start: number, end: number): string {
    const last = this.lastErrno;
    if (last.length === end - start) {
      let k = 0;
      while (k < last.length && bytes[start + k] === last.charCodeAt(k)) k++;
      if (k === last.length) return last;
    }
    return (this.lastErrno = bytes.toString('latin1', start, end));
  }
}

/** PLAIN[c] is 1 for the bytes scanArgs passes over: all but `"</{}()[],\`. */
const PLAIN = new Uint8Array(256).fill(1);
for (const c of '"</{}()[],\\') PLAIN[c.charCodeAt(0)] = 0;

export const DECLINE = 0;
export const CALL = 1;
export const UNFINISHED_CALL = 2;
export const RESUMED_CALL = 3;
export type ByteLineKind = typeof DECLINE | typeof CALL | typeof UNFINISHED_CALL | typeof RESUMED_CALL;

const UNFINISHED = Buffer.from(' <unfinished ...>');
const DETACHED = Buffer.from(' <detached ...>');
const RESUMED_PREFIX = Buffer.from('<... ');
const RESUMED_SUFFIX = Buffer.from(' resumed>');

export function matches(bytes: Buffer, at: number, word: Buffer): boolean {
  for (let k = 0; k < word.length; k++) if (bytes[at + k] !== word[k]) return false;
  return true;
}

function endsWith(bytes: Buffer, start: number, end: number, word: Buffer): boolean {
  return end - start >= word.length && matches(bytes, end - word.length, word);
}

/** Index of the first `word` that lies in bytes[from, end), or -1. */
function indexOfWord(bytes: Buffer, word: Buffer, from: number, end: number): number {
  for (let at = from; at + word.length <= end; at++) if (matches(bytes, at, word)) return at;
  return -1;
}

/** The return value in bytes[start, end), as ScannedCall reads it. */
function numericValue(bytes: Buffer, start: number, end: number): number | undefined {
  let i = start;
  const negative = bytes[i] === 0x2d;
  if (negative) i++;
  if (end > i && end - i <= 15) {
    let v = 0;
    for (; i < end; i++) {
      const c = bytes[i]!;
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
    }
    if (i === end) return negative ? -v : v;
  }
  return numericValueOf(bytes.toString('latin1', start, end));
}
