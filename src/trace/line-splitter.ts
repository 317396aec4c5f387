/**
 * Cuts a stream of chunks into lines without holding more than one line (plus one chunk) in
 * memory. Buffers are decoded as latin1: strace writes only ASCII (it escapes every other
 * byte), and latin1 maps any stray byte to exactly one char, which c-string.ts maps back.
 *
 * pushBytes hands on each line as a range of bytes (the trace parser reads most lines in
 * place, see fast-lines.ts); push decodes each line from the Buffer on its own, into a flat
 * string that shares no memory with the chunk: a path the parser keeps cannot pin a chunk,
 * and char-by-char scanning is fastest on flat strings (a substring of one big per-chunk
 * string is a view that every `charCodeAt` has to go through).
 */
export class LineSplitter {
  private carry: Buffer[] = [];
  private carryLength = 0;
  private discarding = false;

  /** @param maxLineLength longer lines are cut and the rest dropped, to bound memory. */
  constructor(private readonly maxLineLength = 1 << 20) {}

  push(chunk: string | Uint8Array, onLine: (line: string) => void): void {
    this.pushBytes(chunk, (bytes, start, end) => onLine(latin1(bytes, start, end)));
  }

  /** Flush a last line that had no final newline. */
  end(onLine: (line: string) => void): void {
    this.endBytes((bytes, start, end) => onLine(latin1(bytes, start, end)));
  }

  /**
   * push() without making strings: each line is bytes[start, end) of a buffer that is only
   * valid during the call (a chunk, or the carry of a line cut by a chunk's end).
   */
  pushBytes(chunk: string | Uint8Array, onLine: OnBytes): void {
    const buf = typeof chunk === 'string'
      ? Buffer.from(chunk, 'latin1')
      : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    const nl = buf.indexOf(0x0a);
    if (nl >= 0 && (this.carryLength > 0 || this.discarding)) {
      if (this.discarding) this.discarding = false;
      else emit(this.takeCarry(buf.subarray(0, nl)), onLine);
      start = nl + 1;
    }
    start = emitLines(buf, start, onLine);
    if (start < buf.length && !this.discarding) this.keep(buf, start, onLine);
  }

  endBytes(onLine: OnBytes): void {
    if (this.carryLength > 0 && !this.discarding) emit(this.takeCarry(Buffer.alloc(0)), onLine);
    this.carry = [];
    this.carryLength = 0;
    this.discarding = false;
  }

  /** Carry buf[start..] (a line cut by the chunk's end) over to the next chunk. */
  private keep(buf: Buffer, start: number, onLine: OnBytes): void {
    // Copy: the caller may reuse its buffer once push() returns.
    this.carry.push(Buffer.from(buf.subarray(start)));
    this.carryLength += buf.length - start;
    if (this.carryLength > this.maxLineLength) {
      emit(this.takeCarry(Buffer.alloc(0)).subarray(0, this.maxLineLength), onLine);
      this.discarding = true;
    }
  }

  private takeCarry(tail: Buffer): Buffer {
    const joined = Buffer.concat([...this.carry, tail]);
    this.carry = [];
    this.carryLength = 0;
    return joined;
  }
}

/** Receives one line: bytes[start, end), without its newline. */
export type OnBytes = (bytes: Buffer, start: number, end: number) => void;

function emit(line: Buffer, onLine: OnBytes): void {
  onLine(line, 0, line.length);
}

/**
 * Hand every complete line of buf from `start` to onLine; returns where the unfinished rest
 * starts. Kept apart from push(): this loop is where the whole parser gets inlined, and a
 * deoptimisation in push()'s once-per-chunk bookkeeping would throw all of it away.
 */
function emitLines(buf: Buffer, start: number, onLine: OnBytes): number {
  for (let nl = buf.indexOf(0x0a, start); nl >= 0; nl = buf.indexOf(0x0a, start)) {
    onLine(buf, start, nl);
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
