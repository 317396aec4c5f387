/**
 * Cuts a stream of chunks into lines without holding more than one line (plus one chunk) in
 * memory. Buffers are decoded as latin1: strace writes only ASCII (it escapes every other
 * byte), and latin1 maps any stray byte to exactly one char, which c-string.ts maps back.
 *
 * Each line is decoded from the Buffer on its own rather than sliced out of one big string
 * per chunk: V8 substrings keep their parent alive, so a path kept from a chunk-sized string
 * would pin the whole chunk (hundreds of MiB over a long trace).
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
    let nl = buf.indexOf(0x0a);
    if (nl >= 0 && (this.carryLength > 0 || this.discarding)) {
      if (this.discarding) this.discarding = false;
      else onLine(this.takeCarry(buf.subarray(0, nl)));
      start = nl + 1;
      nl = buf.indexOf(0x0a, start);
    }
    while (nl >= 0) {
      onLine(buf.toString('latin1', start, nl));
      start = nl + 1;
      nl = buf.indexOf(0x0a, start);
    }
    if (start < buf.length && !this.discarding) {
      // Copy: the caller may reuse its buffer once push() returns.
      this.carry.push(Buffer.from(buf.subarray(start)));
      this.carryLength += buf.length - start;
      if (this.carryLength > this.maxLineLength) {
        onLine(this.takeCarry(Buffer.alloc(0)).slice(0, this.maxLineLength));
        this.discarding = true;
      }
    }
  }

  /** Flush a last line that had no final newline. */
  end(onLine: (line: string) => void): void {
    if (this.carryLength > 0 && !this.discarding) onLine(this.takeCarry(Buffer.alloc(0)));
    this.carry = [];
    this.carryLength = 0;
    this.discarding = false;
  }

  private takeCarry(tail: Buffer): string {
    const line = Buffer.concat([...this.carry, tail]).toString('latin1');
    this.carry = [];
    this.carryLength = 0;
    return line;
  }
}
