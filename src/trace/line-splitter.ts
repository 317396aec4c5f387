/**
 * Cuts a stream of chunks into lines without holding more than one line (plus one chunk) in
 * memory. Buffers are decoded as latin1: strace writes only ASCII (it escapes every other
 * byte), and latin1 maps any stray byte to exactly one char, which c-string.ts maps back.
 *
 * Each chunk is decoded once and lines are cut from that string: one native decode per chunk
 * is much cheaper than one per line. Those lines are views into the chunk's string (V8
 * substrings keep their parent alive), so whatever the parser keeps from a line must be
 * copied first (see `own` in trace-summary.ts), or it would pin the whole chunk.
 */
export class LineSplitter {
  /** The start of a line cut by the end of the previous chunk(s). */
  private carry = '';
  private discarding = false;

  /** @param maxLineLength longer lines are cut and the rest dropped, to bound memory. */
  constructor(private readonly maxLineLength = 1 << 20) {}

  push(chunk: string | Uint8Array, onLine: (line: string) => void): void {
    // A string chunk goes through latin1 bytes too, so chars above 0xff act as their low byte.
    const buf = typeof chunk === 'string'
      ? Buffer.from(chunk, 'latin1')
      : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const text = buf.toString('latin1');
    let start = 0;
    let nl = text.indexOf('\n');
    if (nl >= 0 && (this.carry.length > 0 || this.discarding)) {
      if (this.discarding) this.discarding = false;
      else onLine(this.takeCarry(text.slice(0, nl)));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    while (nl >= 0) {
      onLine(text.slice(start, nl));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length && !this.discarding) {
      this.carry += text.slice(start);
      if (this.carry.length > this.maxLineLength) {
        onLine(this.takeCarry('').slice(0, this.maxLineLength));
        this.discarding = true;
      }
    }
  }

  /** Flush a last line that had no final newline. */
  end(onLine: (line: string) => void): void {
    if (this.carry.length > 0 && !this.discarding) onLine(this.takeCarry(''));
    this.carry = '';
    this.discarding = false;
  }

  private takeCarry(tail: string): string {
    const line = this.carry + tail;
    this.carry = '';
    return line;
  }
}
