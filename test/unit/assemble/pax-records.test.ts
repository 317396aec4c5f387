// PAX records in and out as bytes: what GNU tar writes decodes to the same bytes, lengths count
// their own digits, and a corrupt record is an error instead of a silently shortened header.
import { describe, expect, it } from 'vitest';
import { decodePaxRecords, encodePaxRecords, encodeUstarHeader } from '../../../src/assemble/pax-records.js';

const CAPABILITY = Buffer.from('0100000200040000000000000000000000000000', 'hex');

describe('PAX records', () => {
  it('round-trips binary values and non-UTF-8 names byte for byte', () => {
    const records: Array<[string, string]> = [
      ['path', Buffer.from([0x61, 0xff, 0xfe, 0x2f, 0x62]).toString('latin1')],
      ['SCHILY.xattr.security.capability', CAPABILITY.toString('latin1')],
    ];
    const decoded = decodePaxRecords(encodePaxRecords(records));
    expect(Buffer.from(decoded['SCHILY.xattr.security.capability']!, 'latin1')).toEqual(CAPABILITY);
    expect(Buffer.from(decoded.path!, 'latin1')).toEqual(Buffer.from([0x61, 0xff, 0xfe, 0x2f, 0x62]));
  });

  it('counts the digits of the length itself, across the 9 -> 10 and 99 -> 100 boundaries', () => {
    for (let size = 0; size < 120; size++) {
      const encoded = encodePaxRecords([['k', 'v'.repeat(size)]]);
      expect(Number(encoded.toString('latin1').split(' ')[0])).toBe(encoded.length);
    }
  });

  it('decodes what GNU tar writes (mtime with a fraction)', () => {
    expect(decodePaxRecords(Buffer.from('30 mtime=1795821229.170742105\n'))).toEqual({ mtime: '1795821229.170742105' });
  });

  it('refuses a record whose length points past the header', () => {
    expect(() => decodePaxRecords(Buffer.from('99 path=x\n'))).toThrow(/Invalid PAX record at byte 0/);
  });

  it('writes ustar headers with a valid checksum', () => {
    const header = encodeUstarHeader({ name: 'PaxHeader', mode: 0o644, uid: 0, gid: 0, size: 30, mtime: new Date(0), typeflag: 'x' });
    const stored = Number.parseInt(header.toString('latin1', 148, 154), 8);
    header.fill(0x20, 148, 156);
    expect(stored).toBe(header.reduce((sum, byte) => sum + byte, 0));
    expect(header.toString('latin1', 257, 263)).toBe('ustar\0');
  });
});
