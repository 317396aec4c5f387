/**
 * A set of byte strings (paths), each with a value, looked up by the bytes themselves: a path
 * read from a trace line is found without first becoming a JS string. Strings are hashed
 * (FNV-1a) into an open-addressing table of ints, and their bytes kept in one growing pool.
 *
 * Why not a Map<string, T>: the trace parser looks up a path on nearly every line, among tens
 * of thousands, and a Map needs a fresh string per lookup (an allocation, then V8 hashing it)
 * before it can even probe. Here a lookup reads the line's bytes, one slot of an Int32Array
 * and the stored bytes it compares against.
 */
export class PathTable<T> {
  /** The values, by id (ids are given out in order of insertion, from 0). */
  readonly values: T[] = [];
  /**
   * Two ints per slot: the entry's full hash and where the entry starts in `pool`, + 1 (0: an
   * empty slot). Kept small (8 bytes a slot, at most half full) so that most of it stays in
   * cache: on a big table every separate place a lookup reads is a cache miss of its own.
   */
  private slots = new Int32Array(2 << 10);
  /**
   * The entries, each in one place: its marks (see marks()), its id, its length, then its
   * bytes, padded to a multiple of 4. A lookup that found the slot reads nothing else.
   */
  private pool = Buffer.allocUnsafeSlow(1 << 14);
  /** `pool` as ints, for an entry's head. */
  private heads = new Int32Array(this.pool.buffer, 0, this.pool.length >> 2);
  private poolUsed = 0;
  /** Where in `heads` the entry find() found or add() added last starts. */
  private last = 0;

  /** The id of bytes[start, end), or -1 when absent. */
  find(bytes: Uint8Array, start: number, end: number): number {
    return this.findHashed(hashBytes(bytes, start, end), bytes, start, end);
  }

  /** find() for a caller that has the bytes' hashBytes() already. */
  findHashed(hash: number, bytes: Uint8Array, start: number, end: number): number {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    const heads = this.heads;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[2 * slot + 1]! - 1;
      if (entry < 0) return -1;
      const head = entry >> 2;
      if (slots[2 * slot] === hash && heads[head + 2] === end - start && this.holds(entry + HEAD, bytes, start, end)) {
        this.last = head;
        return heads[head + 1]!;
      }
    }
  }

  /** 32 bits a user may set on the entry found or added last, kept beside it (no other memory to reach). */
  marks(): number {
    return this.heads[this.last]!;
  }

  mark(bits: number): void {
    this.heads[this.last] = this.heads[this.last]! | bits;
  }

  /** Add bytes[start, end), which must be absent (see find), with its value; returns its id. */
  add(bytes: Uint8Array, start: number, end: number, value: T, hash = hashBytes(bytes, start, end)): number {
    const id = this.values.length;
    if (4 * (id + 1) > this.slots.length) this.growSlots();
    const length = end - start;
    const size = HEAD + ((length + 3) & ~3);
    if (this.poolUsed + size > this.pool.length) this.growPool(size);
    const entry = this.poolUsed;
    const head = entry >> 2;
    this.heads[head] = 0;
    this.heads[head + 1] = id;
    this.heads[head + 2] = length;
    this.pool.set(bytes.subarray(start, end), entry + HEAD);
    this.place(hash, entry);
    this.poolUsed += size;
    this.last = head;
    this.values.push(value);
    return id;
  }

  /** Whether the pool holds bytes[start, end) from `at` (compared from the end: paths that share a directory differ last). */
  private holds(at: number, bytes: Uint8Array, start: number, end: number): boolean {
    const pool = this.pool;
    for (let i = end - 1, p = at + (end - start) - 1; i >= start; i--, p--) {
      if (bytes[i] !== pool[p]) return false;
    }
    return true;
  }

  /** Put an entry in the first free slot of its probe sequence. */
  private place(hash: number, entry: number): void {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    let slot = hash & mask;
    while (slots[2 * slot + 1] !== 0) slot = (slot + 1) & mask;
    slots[2 * slot] = hash;
    slots[2 * slot + 1] = entry + 1;
  }

  /** Double the slots (kept at most half full, so probe runs stay short) and place every entry again. */
  private growSlots(): void {
    const old = this.slots;
    this.slots = new Int32Array(2 * old.length);
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] !== 0) this.place(old[i]!, old[i + 1]! - 1);
    }
  }

  private growPool(need: number): void {
    // Unzeroed: only bytes written are ever read, and the memory of the unwritten half stays untouched.
    const pool = Buffer.allocUnsafeSlow(Math.max(2 * this.pool.length, this.poolUsed + need));
    this.pool.copy(pool, 0, 0, this.poolUsed);
    this.pool = pool;
    this.heads = new Int32Array(pool.buffer, 0, pool.length >> 2);
  }
}

/** Bytes of an entry's head in PathTable's pool: marks, id and length, an int each. */
const HEAD = 12;

/** FNV-1a of bytes[start, end), as a signed 32-bit int. */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = FNV_OFFSET;
  for (let i = start; i < end; i++) hash = fnvStep(hash, bytes[i]!);
  return hash;
}

/** FNV-1a's start, and its step for one more byte: for a caller that hashes bytes as it passes over them for another reason. */
export const FNV_OFFSET = 0x811c9dc5 | 0;
export function fnvStep(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, 0x01000193);
}
