/**
 * Cuts a stream of chunks into lines without holding more than one line (plus one chunk) in
 * memory. Buffers are decoded as latin1: strace writes only ASCII (it escapes every other
 * byte), and latin1 maps any stray byte to exactly one char, which c-string.ts maps back.
 *
 * Each line is decoded from the Buffer on its own, into a flat string that shares no memory
 * with the chunk: a path the parser keeps cannot pin a chunk, and the parser's char-by-char
 * scanning is fastest on flat strings (a substring of one big per-chunk string is a view that
 * every `charCodeAt` has to go through).
 */
export class LineSplitter {
  private carry: Buffer[] = [];
  private carryLength = 0;
  private discarding = false;

  /** @param maxLineLength longer lines are cut and the rest dropped, to bound memory. */
  constructor(private readonly maxLineLength = 1 << 20) {}

  push(chunk: string | Uint8Array, onLine: (line: string) => void): void {
    const buf = typeof chunk === 'string'
      ? Buffer.from(chunk, 'latin1')
      : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    const nl = buf.indexOf(0x0a);
    if (nl >= 0 && (this.carryLength > 0 || this.discarding)) {
      if (this.discarding) this.discarding = false;
      else onLine(this.takeCarry(buf.subarray(0, nl)));
      start = nl + 1;
    }
    start = emitLines(buf, start, onLine);
    if (start < buf.length && !this.discarding) this.keep(buf, start, onLine);
  }
  /** Flush a last line that had no final newline. */
  end(onLine: (line: string) => void): void {
    if (this.carryLength > 0 && !this.discarding) onLine(this.takeCarry(Buffer.alloc(0)));
    this.carry = [];
    this.carryLength = 0;
    this.discarding = false;
  }

  /** Carry buf[start..] (a line cut by the chunk's end) over to the next chunk. */
  private keep(buf: Buffer, start: number, onLine: (line: string) => void): void {
    // Copy: the caller may reuse its buffer once push() returns.
    this.carry.push(Buffer.from(buf.subarray(start)));
    this.carryLength += buf.length - start;
    if (this.carryLength > this.maxLineLength) {
      onLine(this.takeCarry(Buffer.alloc(0)).slice(0, this.maxLineLength));
      this.discarding = true;
    }
  }

  private takeCarry(tail: Buffer): string {
    const joined = Buffer.concat([...this.carry, tail]);
    this.carry = [];
    this.carryLength = 0;
    return latin1(joined, 0, joined.length);
  }
}

/**
 * Hand every complete line of buf from `start` to onLine; returns where the unfinished rest
 * starts. Kept apart from push(): this loop is where the whole parser gets inlined, and a
 * deoptimisation in push()'s once-per-chunk bookkeeping would throw all of it away.
 */
function emitLines(buf: Buffer, start: number, onLine: (line: string) => void): number {
  for (let nl = buf.indexOf(0x0a, start); nl >= 0; nl = buf.indexOf(0x0a, start)) {
    onLine(latin1(buf, start, nl));
    start = nl + 1;
  }
  return start;
}

interface Latin1Buffer extends Buffer {
  latin1Slice(start: number, end: number): string;
}

/**
 * `latin1Slice` is the method buf.toString('latin1', start, end) ends in, at half the cost per
 * call (no argument checks, no encoding lookup). It has been on Buffer.prototype in every
 * Node release but is undocumented, hence the fallback.
 */
const hasLatin1Slice = typeof (Buffer.prototype as Partial<Latin1Buffer>).latin1Slice === 'function';

/** buf[start, end) as a flat latin1 string. */
export function latin1(buf: Buffer, start: number, end: number): string {
  return hasLatin1Slice ? (buf as Latin1Buffer).latin1Slice(start, end) : buf.toString('latin1', start, end);
}
