import { FNV_OFFSET, fnvStep } from './path-table.js';

/**
 * The last complete calls the fast path handled whose effect on the summary depends on their
 * text alone, each with the cwd it shows (`AT_FDCWD</app>`). Traces repeat themselves: every
 * process opens the same libraries, stats the same files, the same way. Recording a use is
 * idempotent (the summary keeps sets), so a line seen before (its text after the pid, byte
 * for byte) has nothing left to record, and replaying it is: find its process, take the cwd.
 *
 * Direct-mapped and fixed in size: a line that misses costs a hash and one slot's compare,
 * and memory stays flat however long the trace is. Where lines do not repeat (a build
 * touching thousands of files once each), even that is a loss, so a memo that keeps missing
 * rests a while: find() then answers -1 without looking.
 */
export class LineMemo {
  /** Lookups and hits in the current round of ROUND lookups. */
  private lookups = 0;
  private hits = 0;
  /** Lookups still to answer without looking. */
  private resting = 0;
  private readonly hashes = new Int32Array(SLOTS);
  /** Per slot: the remembered text's length; 0 for an empty slot (a call's text is never empty). */
  private readonly lengths = new Int32Array(SLOTS);
  /** Per slot: MAX_LENGTH bytes of text. */
  private readonly text = Buffer.alloc(SLOTS * MAX_LENGTH);
  /**
   * Lines are hashed and compared four bytes at a time, through DataViews: a byte-by-byte
   * loop costs over twice the instructions, and this runs on most lines of a trace.
   */
  private readonly textView = new DataView(this.text.buffer, this.text.byteOffset, this.text.byteLength);
  /** A view of the buffer the last line came in (a chunk holds thousands of lines). */
  private view: DataView = new DataView(new ArrayBuffer(0));
  private viewOf: Buffer | undefined;
  private readonly cwds: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined);
  /** The hash of the text find() last looked up, for remember(); `hashed` is false once used, or when find() did not look. */
  private hash = 0;
  private hashed = false;

  /** The slot remembering bytes[start, end), or -1. */
  find(bytes: Buffer, start: number, end: number): number {
    this.hashed = false;
    if (this.resting > 0) {
      this.resting--;
      return -1;
    }
    if (++this.lookups === ROUND) this.endRound();
    const slot = this.lookup(bytes, start, end);
    if (slot >= 0) this.hits++;
    return slot;
  }

  private lookup(bytes: Buffer, start: number, end: number): number {
    const length = end - start;
    if (length > MAX_LENGTH) return -1;
    if (bytes !== this.viewOf) {
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.viewOf = bytes;
    }
    const hash = (this.hash = this.hashOf(bytes, start, end));
    this.hashed = true;
    const slot = hash & (SLOTS - 1);
    if (this.hashes[slot] !== hash || this.lengths[slot] !== length) return -1;
    return this.holds(slot, bytes, start, end) ? slot : -1;
  }

  /** FNV-1a over 32-bit words, then the last bytes one by one. */
  private hashOf(bytes: Buffer, start: number, end: number): number {
    const view = this.view;
    let hash = FNV_OFFSET;
    let i = start;
    for (; i + 4 <= end; i += 4) hash = fnvStep(hash, view.getInt32(i, true));
    for (; i < end; i++) hash = fnvStep(hash, bytes[i]!);
    return hash;
  }

  /** Whether `slot` holds bytes[start, end) (whose length it has). */
  private holds(slot: number, bytes: Buffer, start: number, end: number): boolean {
    const { view, textView, text } = this;
    let i = start;
    let t = slot * MAX_LENGTH;
    for (; i + 4 <= end; i += 4, t += 4) if (view.getInt32(i, true) !== textView.getInt32(t, true)) return false;
    for (; i < end; i++, t++) if (bytes[i] !== text[t]) return false;
    return true;
  }

  /** Rest for a while after a round with too few hits to pay for the lookups. */
  private endRound(): void {
    if (this.hits * MIN_HIT_SHARE < ROUND) this.resting = REST;
    this.lookups = 0;
    this.hits = 0;
  }

  /** The cwd the line in `slot` shows (undefined: it shows none). */
  cwd(slot: number): string | undefined {
    return this.cwds[slot];
  }

  /** Whether remember() would remember the line just given to find() (then the caller makes the cwd's string). */
  expects(): boolean {
    return this.hashed;
  }

  /** Remember bytes[start, end), just given to find(), with the cwd it shows. */
  remember(bytes: Buffer, start: number, end: number, cwd: string | undefined): void {
    if (!this.hashed) return;
    this.hashed = false;
    const length = end - start;
    const slot = this.hash & (SLOTS - 1);
    bytes.copy(this.text, slot * MAX_LENGTH, start, end);
    this.hashes[slot] = this.hash;
    this.lengths[slot] = length;
    this.cwds[slot] = cwd;
  }
}

const SLOTS = 1 << 12;
/** Lookups per round, and the share of them (1 in MIN_HIT_SHARE) that must hit for the memo to go on. */
const ROUND = 1 << 12;
const MIN_HIT_SHARE = 5;
/** Lines a memo that missed too often lets pass before it tries again. */
const REST = 1 << 16;
/** Longer lines are not remembered (long lines are rarely repeated). */
const MAX_LENGTH = 256;
