/**
 * Cuts a stream of chunks into lines without holding more than one line (plus one chunk) in
 * memory. Buffers are decoded as latin1: strace writes only ASCII (it escapes every other
 * byte), and latin1 maps any stray byte to exactly one char, which c-string.ts maps back.
 */
export class LineSplitter {
  private carry = '';
  private discarding = false;

  /** @param maxLineLength longer lines are cut and the rest dropped, to bound memory. */
  constructor(private readonly maxLineLength = 1 << 20) {}

  push(chunk: string | Uint8Array, onLine: (line: string) => void): void {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('latin1');
    let start = 0;
    let nl = text.indexOf('\n');
    if (nl >= 0 && (this.carry.length > 0 || this.discarding)) {
      const line = this.carry + text.slice(0, nl);
      this.carry = '';
      if (this.discarding) this.discarding = false;
      else onLine(line);
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
        onLine(this.carry.slice(0, this.maxLineLength));
        this.carry = '';
        this.discarding = true;
      }
    }
  }

  /** Flush a last line that had no final newline. */
  end(onLine: (line: string) => void): void {
    if (this.carry.length > 0 && !this.discarding) onLine(this.carry);
    this.carry = '';
    this.discarding = false;
  }
}
