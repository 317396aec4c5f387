/**
 * Small helpers for reading a trace line in place, by index, without cutting substrings.
 *
 * Why not startsWith/endsWith: in V8 (Node 20) `text.startsWith(word, at)` goes through a slow
 * generic builtin, several times the cost of the comparisons below, and these run several
 * times per line. Comparing by hand from the char most likely to differ rejects nearly every
 * non-match on the first comparison. Long equal runs are compared natively with indexOf.
 */

/** Whether text[at, at + word.length) is `word` (meant for short, constant words). */
export function matchesAt(text: string, at: number, word: string): boolean {
  if (at < 0 || at + word.length > text.length) return false;
  for (let k = 0; k < word.length; k++) if (text.charCodeAt(at + k) !== word.charCodeAt(k)) return false;
  return true;
}

/** Whether text[start, end) ends with `suffix` (compared from its last char). */
export function endsWithAt(text: string, suffix: string, start: number, end: number): boolean {
  if (end - start < suffix.length) return false;
  for (let k = suffix.length - 1, i = end - 1; k >= 0; k--, i--) if (text.charCodeAt(i) !== suffix.charCodeAt(k)) return false;
  return true;
}

/** Whether text[start, end) is exactly `s` (any length: a mismatch costs one native scan). */
export function equalsAt(text: string, start: number, end: number, s: string): boolean {
  return end - start === s.length && (s.length === 0 || text.indexOf(s, start) === start);
}

/** text.indexOf(s, from), or -1 when `s` does not end before `end`. */
export function indexBefore(text: string, s: string, from: number, end: number): number {
  const at = text.indexOf(s, from);
  return at >= 0 && at + s.length <= end ? at : -1;
}

/**
 * Index of the `"` closing a C string whose content starts at `i`, or -1 if not before `end`.
 * strace escapes every `"` inside a string, so the first quote not preceded by an odd number
 * of backslashes ends it; indexOf jumps over the (long) string bodies quickly.
 */
export function skipQuoted(text: string, i: number, end: number): number {
  for (;;) {
    const q = indexBefore(text, '"', i, end);
    if (q < 0) return -1;
    let b = q - 1;
    while (b >= i && text.charCodeAt(b) === 0x5c) b--;
    if ((q - 1 - b) % 2 === 0) return q;
    i = q + 1;
  }
}

/** Whether text[start, end) contains a backslash (an escape to decode). */
export function hasBackslash(text: string, start: number, end: number): boolean {
  const at = text.indexOf('\\', start);
  return at >= 0 && at < end;
}
