/**
 * The header blocks of one entry of the slim layer: a plain ustar header, or a PAX extended
 * header followed by one when the name or link target is long or not ASCII, or when the entry
 * carries extended attributes (file capabilities). Names, link targets and PAX values are latin1
 * byte strings, so every byte of the image's own names survives. Pure, and the length of the
 * result does not depend on the entry's size: the layer's size is known before it is written.
 */
import type { Header } from 'tar-stream';
import { blockPadding, encodePaxRecords, encodeUstarHeader } from './pax-records.js';

const TYPEFLAGS: Record<string, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
  'contiguous-file': '7',
};

/** Bytes at the end of every tar: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(1024);

/** Whether a latin1 byte string has bytes outside ASCII (a plain ustar field would still hold them, but no reader would know their encoding). */
export function needsPax(value: string | null | undefined): boolean {
  return value !== undefined && value !== null && /[^\x00-\x7f]/.test(value);
}

export function hasContent(header: Header): boolean {
  return header.type === 'file' || header.type === 'contiguous-file';
}

export function headerBlocks(header: Header): Buffer {
  const name = header.type === 'directory' && !header.name.endsWith('/') ? `${header.name}/` : header.name;
  const linkname = header.linkname ?? '';
  const fields = {
    name,
    mode: header.mode,
    uid: header.uid,
    gid: header.gid,
    size: hasContent(header) ? header.size : 0,
    mtime: header.mtime,
    typeflag: TYPEFLAGS[header.type] ?? '0',
    linkname,
    uname: header.uname,
    gname: header.gname,
    devmajor: header.devmajor,
    devminor: header.devminor,
  };
  const records: Array<[string, string]> = [];
  if (name.length > 100 || needsPax(name)) records.push(['path', name]);
  if (linkname.length > 100 || needsPax(linkname)) records.push(['linkpath', linkname]);
  for (const [key, value] of Object.entries((header.pax ?? {}) as Record<string, string>)) if (key !== 'path' && key !== 'linkpath') records.push([key, value]);
  if (records.length === 0) return encodeUstarHeader(fields);
  const body = encodePaxRecords(records);
  const extended = encodeUstarHeader({ ...fields, name: 'PaxHeader', linkname: '', size: body.length, typeflag: 'x' });
  // readers take the name and link target from the PAX records; the ustar fields hold what fits
  return Buffer.concat([extended, body, blockPadding(body.length), encodeUstarHeader({ ...fields, name: name.slice(0, 100), linkname: linkname.slice(0, 100) })]);
}
