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
   * The slots, SLOT ints each: the entry's full hash, its id + 1 (0: an empty slot), where its
   * bytes are in `pool` and how many, and its marks (see marks()). All a lookup reads before
   * the bytes themselves sits in one slot: on a big table each separate array read is a cache
   * miss of its own.
   */
  private slots = new Int32Array(SLOT << 10);
  private pool = Buffer.alloc(1 << 14);
  private poolUsed = 0;
  /** Where in `slots` the entry find() found or add() added last is. */
  private last = 0;

  /** The id of bytes[start, end), or -1 when absent. */
  find(bytes: Uint8Array, start: number, end: number): number {
    const hash = hashBytes(bytes, start, end);
    const slots = this.slots;
    const mask = slots.length / SLOT - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const at = slot * SLOT;
      const id = slots[at + 1]! - 1;
      if (id < 0) return -1;
      if (slots[at] === hash && slots[at + 3] === end - start && this.holds(slots[at + 2]!, bytes, start, end)) {
        this.last = at;
        return id;
      }
    }
  }

  /** 32 bits a user may set on the entry found or added last, kept beside it (no other memory to reach). */
  marks(): number {
    return this.slots[this.last + 4]!;
  }

  mark(bits: number): void {
    this.slots[this.last + 4] = this.slots[this.last + 4]! | bits;
  }

  /** Add bytes[start, end), which must be absent (see find), with its value; returns its id. */
  add(bytes: Uint8Array, start: number, end: number, value: T): number {
    const id = this.values.length;
    if (2 * (id + 1) > this.slots.length / SLOT) this.growSlots();
    const length = end - start;
    if (this.poolUsed + length > this.pool.length) this.growPool(length);
    this.pool.set(bytes.subarray(start, end), this.poolUsed);
    this.place(hashBytes(bytes, start, end), id, this.poolUsed, length, 0);
    this.poolUsed += length;
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

  /** Put an entry in the first free slot of its probe sequence (it becomes the last one, see marks()). */
  private place(hash: number, id: number, at: number, length: number, marks: number): void {
    const slots = this.slots;
    const mask = slots.length / SLOT - 1;
    let slot = hash & mask;
    while (slots[slot * SLOT + 1] !== 0) slot = (slot + 1) & mask;
    const i = slot * SLOT;
    slots[i] = hash;
    slots[i + 1] = id + 1;
    slots[i + 2] = at;
    slots[i + 3] = length;
    slots[i + 4] = marks;
    this.last = i;
  }

  /** Double the slots (kept at most half full, so probe runs stay short) and place every entry again. */
  private growSlots(): void {
    const old = this.slots;
    this.slots = new Int32Array(2 * old.length);
    for (let i = 0; i < old.length; i += SLOT) {
      if (old[i + 1] !== 0) this.place(old[i]!, old[i + 1]! - 1, old[i + 2]!, old[i + 3]!, old[i + 4]!);
    }
  }

  private growPool(need: number): void {
    // Unzeroed: only bytes written are ever read, and the memory of the unwritten half stays untouched.
    const pool = Buffer.allocUnsafeSlow(Math.max(2 * this.pool.length, this.poolUsed + need));
    this.pool.copy(pool, 0, 0, this.poolUsed);
    this.pool = pool;
  }
}

/** Ints per slot of PathTable.slots. */
const SLOT = 5;

/** FNV-1a of bytes[start, end), as a signed 32-bit int. */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash;
}
