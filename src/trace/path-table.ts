/**
 * A set of byte strings (paths), each with a value, looked up by the bytes themselves: a path
 * read from a trace line is found without first becoming a JS string. Strings are hashed
 * (FNV-1a) into an open-addressing table of ints, and their bytes kept in one growing pool.
 *
 * Why not a Map<string, T>: the trace parser looks up a path on nearly every line, among tens
 * of thousands, and a Map needs a fresh string per lookup (an allocation, then V8 hashing it)
 * before it can even probe. Here a lookup reads the line's bytes, one slot of two Int32Arrays
 * and the stored bytes it compares against.
 */
export class PathTable<T> {
  /** The values, by id (ids are given out in order of insertion, from 0). */
  readonly values: T[] = [];
  /** Per slot: id + 1 of the entry there, 0 for an empty slot. */
  private slots = new Int32Array(1 << 10);
  /** Per slot: the full hash of its entry, so most slots that do not match are passed over on one compare. */
  private hashes = new Int32Array(1 << 10);
  /** Per id: where its bytes start in `pool`, and how many there are. */
  private starts = new Int32Array(1 << 10);
  private lengths = new Int32Array(1 << 10);
  private pool = Buffer.alloc(1 << 14);
  private poolUsed = 0;

  get size(): number {
    return this.values.length;
  }

  /** The id of bytes[start, end), or -1 when absent. */
  find(bytes: Uint8Array, start: number, end: number): number {
    const hash = hashBytes(bytes, start, end);
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const id = this.slots[slot]! - 1;
      if (id < 0) return -1;
      if (this.hashes[slot] === hash && this.holds(id, bytes, start, end)) return id;
    }
  }

  /** Add bytes[start, end), which must be absent (see find), with its value; returns its id. */
  add(bytes: Uint8Array, start: number, end: number, value: T): number {
    const id = this.values.length;
    if (2 * (id + 1) > this.slots.length) this.growSlots();
    if (id === this.starts.length) this.growIds();
    const length = end - start;
    if (this.poolUsed + length > this.pool.length) this.growPool(length);
    this.pool.set(bytes.subarray(start, end), this.poolUsed);
    this.starts[id] = this.poolUsed;
    this.lengths[id] = length;
    this.poolUsed += length;
    this.values.push(value);
    this.place(id, hashBytes(bytes, start, end));
    return id;
  }

  /** The bytes of entry `id`, as a latin1 string (one char per byte). */
  latin1(id: number): string {
    const start = this.starts[id]!;
    return this.pool.toString('latin1', start, start + this.lengths[id]!);
  }

  private holds(id: number, bytes: Uint8Array, start: number, end: number): boolean {
    if (this.lengths[id] !== end - start) return false;
    const pool = this.pool;
    // Compared from the end: paths that share a directory differ in their last bytes.
    for (let i = end - 1, p = this.starts[id]! + (end - start) - 1; i >= start; i--, p--) {
      if (bytes[i] !== pool[p]) return false;
    }
    return true;
  }

  /** Put `id` in the first free slot of its probe sequence. */
  private place(id: number, hash: number): void {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = id + 1;
    this.hashes[slot] = hash;
  }

  /** Double the slots (kept at most half full, so probe runs stay short) and place every entry again. */
  private growSlots(): void {
    const old = this.slots;
    const oldHashes = this.hashes;
    this.slots = new Int32Array(2 * old.length);
    this.hashes = new Int32Array(2 * old.length);
    for (let slot = 0; slot < old.length; slot++) {
      if (old[slot] !== 0) this.place(old[slot]! - 1, oldHashes[slot]!);
    }
  }

  private growIds(): void {
    const starts = new Int32Array(2 * this.starts.length);
    const lengths = new Int32Array(2 * this.lengths.length);
    starts.set(this.starts);
    lengths.set(this.lengths);
    this.starts = starts;
    this.lengths = lengths;
  }

  private growPool(need: number): void {
    const pool = Buffer.alloc(Math.max(2 * this.pool.length, this.poolUsed + need));
    this.pool.copy(pool, 0, 0, this.poolUsed);
    this.pool = pool;
  }
}

/** FNV-1a of bytes[start, end), as a signed 32-bit int. */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash;
}
