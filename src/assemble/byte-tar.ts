/**
 * tar-stream extract and pack that keep every byte of names, link targets and PAX records
 * (latin1 strings in, latin1 strings out), through `pax-records.ts`. tar-stream has no option
 * for this, so the two methods that go through UTF-8 are replaced on each instance.
 */
import tar, { type Extract, type Header, type Pack } from 'tar-stream';
import { blockPadding, decodePaxRecords, encodePaxRecords, encodeUstarHeader } from './pax-records.js';

const TYPEFLAGS: Record<string, string> = {
  file: '0', link: '1', symlink: '2', 'character-device': '3', 'block-device': '4', directory: '5', fifo: '6', 'contiguous-file': '7', 'pax-header': 'x',
};

interface ExtractInternals {
  _header: { type?: string };
  _pax: Record<string, string> | null;
  _paxGlobal: Record<string, string> | null;
  _decodeLongHeader(buf: Buffer): void;
}

/** An extract whose header names and PAX records are latin1 byte strings. */
export function byteExtract(): Extract {
  const extract = tar.extract({ filenameEncoding: 'latin1' } as never);
  const internals = extract as unknown as ExtractInternals;
  const decodeOther = internals._decodeLongHeader.bind(extract);
  internals._decodeLongHeader = function (this: ExtractInternals, buf: Buffer) {
    if (this._header.type === 'pax-header') this._pax = { ...(this._paxGlobal ?? {}), ...decodePaxRecords(buf) };
    else if (this._header.type === 'pax-global-header') this._paxGlobal = decodePaxRecords(buf);
    else decodeOther(buf);
  };
  return extract;
}

/** Whether a latin1 byte string has bytes that a plain ustar header from tar-stream would mangle. */
export function needsPax(value: string | null | undefined): boolean {
  return value !== undefined && value !== null && /[^\x00-\x7f]/.test(value);
}

/** A pack that writes names, link targets and PAX records given as latin1 byte strings unchanged. */
export function bytePack(): Pack {
  const pack = tar.pack();
  const internals = pack as unknown as { push(chunk: Buffer): boolean; _encodePax(header: Header): void };
  internals._encodePax = function (header: Header) {
    const records: Array<[string, string]> = [];
    if (header.name) records.push(['path', header.type === 'directory' && !header.name.endsWith('/') ? `${header.name}/` : header.name]);
    if (header.linkname) records.push(['linkpath', header.linkname]);
    for (const [key, value] of Object.entries((header.pax ?? {}) as Record<string, string>)) if (key !== 'path' && key !== 'linkpath') records.push([key, value]);
    const body = encodePaxRecords(records);
    const common = { name: 'PaxHeader', mode: header.mode ?? 0o644, uid: header.uid ?? 0, gid: header.gid ?? 0, mtime: header.mtime ?? new Date(0), uname: header.uname, gname: header.gname, devmajor: header.devmajor, devminor: header.devminor };
    internals.push(encodeUstarHeader({ ...common, size: body.length, typeflag: 'x', linkname: header.linkname ? 'PaxHeader' : undefined }));
    internals.push(body);
    const pad = blockPadding(body.length);
    if (pad.length) internals.push(pad);
    internals.push(encodeUstarHeader({ ...common, size: header.type === 'file' || header.type === 'contiguous-file' ? (header.size ?? 0) : 0, typeflag: TYPEFLAGS[header.type ?? 'file'] ?? '0', linkname: header.linkname ? 'PaxHeader' : undefined }));
  };
  return pack;
}
