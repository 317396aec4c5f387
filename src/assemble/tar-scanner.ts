/**
 * A synchronous reader of tar streams (ustar, PAX and GNU long names) that reports each entry's
 * header and the offset of its content in the stream. The index pass needs those offsets to read
 * files back from its copy of `docker export`, and tar-stream does not give them; it also costs a
 * stream object per entry, which this reader does not: content is skipped, and only the bytes a
 * caller asks for are handed over, as views of the chunks it was given.
 *
 * Headers come in tar-stream's shape, names and PAX records as latin1 byte strings (see
 * `pax-records.ts`), so the rest of slimify does not care which reader produced them.
 */
import type { Header } from 'tar-stream';
import { decodePaxRecords } from './pax-records.js';

const BLOCK = 512;
/** Extended headers larger than this are refused: no real archive needs them, a hostile one could exhaust memory. */
const MAX_EXTENDED_HEADER = 16 * 1024 * 1024;

type EntryType = NonNullable<Header['type']>;
const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
  '7': 'contiguous-file',
};

export interface TarScannerEvents {
  /** A file, directory, link or device; `dataOffset` is where its content starts in the stream. */
  entry(header: Header, dataOffset: number): void;
  /** Content of the entry last reported, in order, without the padding. */
  data?(chunk: Buffer): void;
}

export class TarCorruptError extends Error {}

export class TarScanner {
  /** bytes of the stream consumed so far */
  private offset = 0;
  /** a header block that arrived in pieces */
  private partial: Buffer | undefined;
  /** content and padding of the current entry still to come */
  private skip = 0;
  /** content (not padding) of the current entry still to hand to `data` */
  private deliver = 0;
  /** the body of an extended header (PAX or GNU long name) being collected */
  private extended: { type: string; parts: Buffer[]; left: number } | undefined;
  private pax: Record<string, string> | undefined;
  private paxGlobal: Record<string, string> | undefined;
  private longName: string | undefined;
  private longLink: string | undefined;

  constructor(private readonly events: TarScannerEvents) {}

  /** Total bytes seen so far. */
  get position(): number {
    return this.offset;
  }

  write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.content(chunk, at, n);
        this.skip -= n;
        at += n;
        this.offset += n;
        if (this.skip === 0 && this.extended) this.endExtended();
        continue;
      }
      let block: Buffer;
      if (this.partial || chunk.length - at < BLOCK) {
        const have = this.partial?.length ?? 0;
        const take = Math.min(BLOCK - have, chunk.length - at);
        this.partial = this.partial ? Buffer.concat([this.partial, chunk.subarray(at, at + take)]) : Buffer.from(chunk.subarray(at, at + take));
        at += take;
        this.offset += take;
        if (this.partial.length < BLOCK) continue;
        block = this.partial;
        this.partial = undefined;
      } else {
        block = chunk.subarray(at, at + BLOCK);
        at += BLOCK;
        this.offset += BLOCK;
      }
      this.header(block);
    }
  }

  /** Call at the end of the stream: an archive cut off in the middle of an entry is an error. */
  end(): void {
    if (this.skip > 0 || (this.partial && this.partial.some((b) => b !== 0))) {
      throw new TarCorruptError(`unexpected end of the tar stream at byte ${this.offset}`);
    }
  }

  private content(chunk: Buffer, at: number, n: number): void {
    if (this.extended) {
      const take = Math.min(n, this.extended.left);
      if (take > 0) this.extended.parts.push(Buffer.from(chunk.subarray(at, at + take)));
      this.extended.left -= take;
    } else if (this.deliver > 0) {
      const take = Math.min(n, this.deliver);
      this.deliver -= take;
      this.events.data?.(chunk.subarray(at, at + take));
    }
  }

  private header(block: Buffer): void {
    // zero blocks end the archive; like tar-stream (and GNU tar -i), read on past them
    if (block[0] === 0 && isZero(block)) return;
    if (!checksumMatches(block)) throw new TarCorruptError(`invalid tar header at byte ${this.offset - BLOCK}: the checksum does not match (is the archive corrupted or compressed?)`);
    const flag = String.fromCharCode(block[156]!);
    const size = number(block, 124, 12);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > MAX_EXTENDED_HEADER) throw new TarCorruptError(`an extended tar header of ${size} bytes at byte ${this.offset - BLOCK} is larger than slimify accepts`);
      this.extended = { type: flag, parts: [], left: size };
      this.skip = padded(size);
      if (this.skip === 0) this.endExtended();
      return;
    }
    const header = this.decode(block, flag, size);
    const hasContent = header.type !== 'directory' && (header.size ?? 0) > 0;
    this.skip = hasContent ? padded(header.size!) : 0;
    this.deliver = hasContent ? header.size! : 0;
    this.events.entry(header, this.offset);
  }

  private endExtended(): void {
    const { type, parts } = this.extended!;
    this.extended = undefined;
    const body = Buffer.concat(parts);
    if (type === 'x') this.pax = { ...(this.paxGlobal ?? {}), ...decodePaxRecords(body) };
    else if (type === 'g') this.paxGlobal = decodePaxRecords(body);
    else if (type === 'L') this.longName = cString(body, 0, body.length);
    else this.longLink = cString(body, 0, body.length);
  }

  private decode(block: Buffer, flag: string, size: number): Header {
    let name = cString(block, 0, 100);
    // ustar keeps long names in two parts; GNU's magic means the prefix field holds other things
    const ustar = block.toString('latin1', 257, 263) === 'ustar\0';
    const prefix = ustar ? cString(block, 345, 155) : '';
    if (prefix) name = `${prefix}/${name}`;
    const linkname = cString(block, 157, 100);
    let type: Header['type'] = TYPES[flag] ?? (`unknown-${flag.charCodeAt(0)}` as EntryType);
    if (type === 'file' && name.endsWith('/')) type = 'directory';
    const header: Header = {
      name: this.longName ?? name,
      mode: number(block, 100, 8),
      uid: number(block, 108, 8),
      gid: number(block, 116, 8),
      size,
      mtime: new Date(number(block, 136, 12) * 1000),
      type,
      linkname: this.longLink ?? linkname,
      uname: cString(block, 265, 32),
      gname: cString(block, 297, 32),
      devmajor: number(block, 329, 8),
      devminor: number(block, 337, 8),
      pax: undefined,
    };
    // a global header applies through the next entry's own (see endExtended), as in tar-stream
    const pax = this.pax;
    if (pax) {
      if (pax.path !== undefined) header.name = pax.path;
      if (pax.linkpath !== undefined) header.linkname = pax.linkpath;
      if (pax.size !== undefined) header.size = Number.parseInt(pax.size, 10);
      if (pax.uid !== undefined) header.uid = Number.parseInt(pax.uid, 10);
      if (pax.gid !== undefined) header.gid = Number.parseInt(pax.gid, 10);
      if (pax.mtime !== undefined) header.mtime = new Date(Math.floor(Number.parseFloat(pax.mtime)) * 1000);
      if (pax.uname !== undefined) header.uname = pax.uname;
      if (pax.gname !== undefined) header.gname = pax.gname;
      header.pax = pax;
    }
    this.pax = undefined;
    this.longName = undefined;
    this.longLink = undefined;
    return header;
  }
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** The header's checksum: the sum of its bytes with the checksum field read as spaces. */
function checksumMatches(block: Buffer): boolean {
  let sum = 8 * 0x20;
  for (let i = 0; i < 148; i++) sum += block[i]!;
  for (let i = 156; i < BLOCK; i++) sum += block[i]!;
  return sum === number(block, 148, 8);
}

/** A NUL-terminated latin1 string of at most `width` bytes. */
function cString(buf: Buffer, offset: number, width: number): string {
  let end = offset;
  const limit = offset + width;
  while (end < limit && buf[end] !== 0) end++;
  return buf.toString('latin1', offset, end);
}

/** An octal field, or a base-256 one (top bit set) for values that do not fit in octal. */
function number(buf: Buffer, offset: number, width: number): number {
  const first = buf[offset]!;
  if (first & 0x80) {
    let value = first & 0x3f; // 0x80 marks base-256; 0x40 would be the sign, and negative values make no sense here
    for (let i = offset + 1; i < offset + width; i++) value = value * 256 + buf[i]!;
    return value;
  }
  let i = offset;
  const end = offset + width;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0)) i++; // leading spaces or NULs
  let value = 0;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x37) break; // NUL or space ends the digits
    value = value * 8 + (c - 0x30);
  }
  return value;
}
