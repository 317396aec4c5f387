import { describe, expect, it } from 'vitest';
import { decodeCString, unescapeBytes } from '../../../src/trace/c-string.js';
import { latin1OfPath, pathFromBufferStart, pathFromBytes } from '../../../src/trace/path-encoding.js';

describe('decodeCString', () => {
  it('decodes octal and hex escapes in paths', () => {
    expect(decodeCString('"caf\\303\\251"')?.value).toBe('café');
    expect(decodeCString('"caf\\xc3\\xa9"')?.value).toBe('café');
    expect(decodeCString('"x\\74y\\76z"')?.value).toBe('x<y>z');
    expect(decodeCString('"nul\\0end"')?.value).toBe('nul\u0000end');
  });

  it('decodes quotes, backslashes and control-character escapes', () => {
    expect(decodeCString('"odd\\"dir/a\\nb\\tc\\\\d"')?.value).toBe('odd"dir/a\nb\tc\\d');
  });

  it('keeps bytes that are not valid UTF-8 as latin1 characters', () => {
    expect(decodeCString('"bad\\377"')?.value).toBe('bad\u00ff');
    expect(pathFromBytes(Buffer.from([0x62, 0xff]))).toBe('b\u00ff');
    expect(pathFromBytes(Buffer.from('日本', 'utf8'))).toBe('日本');
  });

  it('flags strings strace cut at -s bytes', () => {
    expect(decodeCString('"cd /usr; ls lib >/dev/null; cat "...')).toEqual({ value: 'cd /usr; ls lib >/dev/null; cat ', truncated: true });
    expect(decodeCString('"/etc"')).toEqual({ value: '/etc', truncated: false });
  });

  it('returns undefined for NULL, pointers and unterminated strings', () => {
    expect(decodeCString('NULL')).toBeUndefined();
    expect(decodeCString('0x7ffd444543c0')).toBeUndefined();
    expect(decodeCString('"abc')).toBeUndefined();
  });
});

describe('byte-level decoding (the fast path\'s)', () => {
  const decode = (escaped: string): Buffer => {
    const into = Buffer.alloc(escaped.length);
    return into.subarray(0, unescapeBytes(Buffer.from(escaped, 'latin1'), 0, escaped.length, into));
  };

  it('unescapeBytes gives the bytes the escapes stand for', () => {
    expect(decode('caf\\303\\251')).toEqual(Buffer.from('café', 'utf8'));
    expect(decode('x\\74y\\x3ez\\0\\"\\\\\\n')).toEqual(Buffer.from('x<y>z\0"\\\n', 'latin1'));
    expect(decode('end\\')).toEqual(Buffer.from('end\\', 'latin1')); // a lone last backslash stays
  });

  it('latin1OfPath rewrites a path\'s bytes as the chars of its string, or gives -1 for wider chars', () => {
    const of = (bytes: number[]): number[] | -1 => {
      const buf = Buffer.from(bytes);
      const n = latin1OfPath(buf, buf.length);
      return n < 0 ? -1 : [...buf.subarray(0, n)];
    };
    expect(of([0x2f, 0x61])).toEqual([0x2f, 0x61]);
    expect(of([...Buffer.from('/café', 'utf8')])).toEqual([...Buffer.from('/café', 'latin1')]);
    expect(of([0x2f, 0xff, 0xc3])).toEqual([0x2f, 0xff, 0xc3]); // not UTF-8: latin1 as it is
    expect(of([...Buffer.from('/é/日', 'utf8')])).toBe(-1);
  });

  it('latin1OfPath agrees with pathFromBufferStart on random bytes', () => {
    let seed = 7;
    const next = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const alphabet = [0x2f, 0x61, 0x80, 0xa9, 0xbf, 0xc2, 0xc3, 0xc4, 0xe6, 0x97, 0xa5, 0xff];
    for (let round = 0; round < 3000; round++) {
      const buf = Buffer.from(Array.from({ length: 1 + next(8) }, () => alphabet[next(alphabet.length)]!));
      const text = pathFromBufferStart(buf, buf.length);
      const n = latin1OfPath(buf, buf.length);
      if ([...text].some((c) => c.charCodeAt(0) > 0xff)) expect(n).toBe(-1);
      else expect(buf.toString('latin1', 0, n)).toBe(text);
    }
  });
});
