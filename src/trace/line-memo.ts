import { hashBytes } from './path-table.js';

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
    const hash = (this.hash = hashBytes(bytes, start, end));
    this.hashed = true;
    const slot = hash & (SLOTS - 1);
    if (this.hashes[slot] !== hash || this.lengths[slot] !== length) return -1;
    const text = this.text;
    for (let i = end - 1, t = slot * MAX_LENGTH + length - 1; i >= start; i--, t--) if (bytes[i] !== text[t]) return -1;
    return slot;
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
