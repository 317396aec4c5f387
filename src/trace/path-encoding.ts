/**
 * How slimify represents file names, which on Linux are byte strings, as JS strings.
 *
 * The rule: decode the bytes as UTF-8 when they are valid UTF-8, otherwise as latin1 (one
 * char per byte). Nearly every real path is valid UTF-8 and stays readable in reports and
 * JSON; the rare invalid name still maps to one stable string instead of U+FFFD soup.
 *
 * Every stage that compares paths (trace, closure, tar filtering) must derive its strings
 * with `pathFromBytes` (the tar layer: from the entry name's raw bytes, e.g. tar-stream with
 * `filenameEncoding: 'latin1'` then `Buffer.from(name, 'latin1')`), so the same bytes always
 * give the same string. The mapping is not injective: an invalid-UTF-8 name whose latin1
 * reading equals a valid UTF-8 name (`caf\xe9` vs `caf\xc3\xa9`, both "café") gives the same
 * string, so there is deliberately no inverse; keep the original bytes (from the image's tar)
 * when writing files.
 */

/** Decode a file name's raw bytes with the rule above. */
export function pathFromBytes(bytes: Uint8Array): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return pathFromBufferStart(buf, buf.length);
}

/** pathFromBytes of buf[0, length), without making a view of it first. */
export function pathFromBufferStart(buf: Buffer, length: number): string {
  let i = 0;
  while (i < length && buf[i]! < 0x80) i++;
  if (i === length) return buf.toString('latin1', 0, length);
  return buf.toString(isValidUtf8(buf, i, length) ? 'utf8' : 'latin1', 0, length);
}

/**
 * Rewrite buf[0, length) in place as the chars of pathFromBufferStart(buf, length), one byte
 * each, and return how many there are; -1 when one of them is above 0xff. For byte-level
 * code (the trace parser's fast path) that keys paths by the latin1 bytes of their strings.
 */
export function latin1OfPath(buf: Buffer, length: number): number {
  let i = 0;
  while (i < length && buf[i]! < 0x80) i++;
  if (i === length || !isValidUtf8(buf, i, length)) return length;
  let n = i;
  while (i < length) {
    const b = buf[i]!;
    if (b < 0x80) {
      buf[n++] = b;
      i++;
    } else if (b <= 0xc3) {
      // Valid UTF-8: a lead byte of 0xc2 or 0xc3 starts the two-byte form of U+0080..U+00FF.
      buf[n++] = ((b & 0x1f) << 6) | (buf[i + 1]! & 0x3f);
      i += 2;
    } else {
      return -1;
    }
  }
  return n;
}

/** Strict UTF-8 validation (no overlongs, no surrogates, max U+10FFFF) of buf[start, end). */
export function isValidUtf8(buf: Uint8Array, start = 0, end = buf.length): boolean {
  let i = start;
  const n = end;
  while (i < n) {
    const b = buf[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
      cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + need >= n) return false;
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return false;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += need + 1;
  }
  return true;
}
