import { describe, expect, it } from 'vitest';
import { decodeCString } from '../../../src/trace/c-string.js';
import { pathFromBytes } from '../../../src/trace/path-encoding.js';

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
