/**
 * PAX extended headers, byte for byte. tar-stream decodes and encodes PAX records as UTF-8, which
 * mangles what is not UTF-8: binary xattr values (file capabilities, `SCHILY.xattr.security.capability`)
 * and file names with non-UTF-8 bytes. Here every key and value is a latin1 string (one char per
 * byte), so bytes go in and come out unchanged. Pure: no streams, no I/O.
 */

const BLOCK = 512;

/** `<len> <key>=<value>\n` records -> { key: value }, keys and values as latin1 byte strings. */
export function decodePaxRecords(buf: Uint8Array): Record<string, string> {
  const bytes = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes[offset] === 0) break; // padding after the last record
    const space = bytes.indexOf(0x20, offset);
    const length = space > offset ? Number(bytes.toString('latin1', offset, space)) : Number.NaN;
    if (!Number.isInteger(length) || length <= space - offset + 1 || offset + length > bytes.length || bytes[offset + length - 1] !== 0x0a) {
      throw new Error(`Invalid PAX record at byte ${offset} of the extended header. Maybe the tar is corrupted?`);
    }
    const record = bytes.toString('latin1', space + 1, offset + length - 1);
    const eq = record.indexOf('=');
    if (eq <= 0) throw new Error(`Invalid PAX record at byte ${offset}: no key=value`);
    records[record.slice(0, eq)] = record.slice(eq + 1);
    offset += length;
  }
  return records;
}

/** The inverse of decodePaxRecords: keys and values are latin1 byte strings. */
export function encodePaxRecords(records: Iterable<[string, string]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const body = Buffer.from(` ${key}=${value}\n`, 'latin1');
    // the length counts its own digits
    let length = body.length + String(body.length).length;
    if (String(length).length !== String(body.length).length) length = body.length + String(length).length;
    parts.push(Buffer.from(String(length), 'latin1'), body);
  }
  return Buffer.concat(parts);
}

export interface UstarFields {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: Date;
  typeflag: string;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
}

function octal(buf: Buffer, value: number, offset: number, width: number): void {
  const digits = Math.floor(value).toString(8);
  if (digits.length <= width - 1) {
    buf.write(`${digits.padStart(width - 1, '0')}\0`, offset, 'latin1');
    return;
  }
  // base-256 for numbers that do not fit (sizes over 8 GiB, big ids)
  buf[offset] = 0x80;
  let rest = BigInt(Math.floor(value));
  for (let i = offset + width - 1; i > offset; i--) {
    buf[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
}

/** One 512-byte ustar header; names longer than 100 bytes must travel in a PAX record instead. */
export function encodeUstarHeader(fields: UstarFields): Buffer {
  const buf = Buffer.alloc(BLOCK);
  buf.write(fields.name.slice(0, 100), 0, 'latin1');
  octal(buf, fields.mode & 0o7777, 100, 8);
  octal(buf, fields.uid, 108, 8);
  octal(buf, fields.gid, 116, 8);
  octal(buf, fields.size, 124, 12);
  octal(buf, Math.floor(fields.mtime.getTime() / 1000), 136, 12);
  buf.write(fields.typeflag, 156, 'latin1');
  if (fields.linkname) buf.write(fields.linkname.slice(0, 100), 157, 'latin1');
  buf.write('ustar\x0000', 257, 'latin1');
  if (fields.uname) buf.write(fields.uname.slice(0, 32), 265, 'latin1');
  if (fields.gname) buf.write(fields.gname.slice(0, 32), 297, 'latin1');
  octal(buf, fields.devmajor ?? 0, 329, 8);
  octal(buf, fields.devminor ?? 0, 337, 8);
  buf.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of buf) sum += byte;
  buf.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return buf;
}

/** Zero bytes that pad `size` up to the next 512-byte block. */
export function blockPadding(size: number): Buffer {
  const rest = size % BLOCK;
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest);
}
