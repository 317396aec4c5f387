// tar-stream as a reference reader for the tar scanner's tests, with names and PAX records kept
// as latin1 byte strings. tar-stream has no option for that, so its two methods that go through
// UTF-8 are replaced on this one instance; slimify itself reads tar with its own scanner.
import tar, { type Extract } from 'tar-stream';
import { decodePaxRecords } from '../../../src/assemble/pax-records.js';

interface ExtractInternals {
  _header: { type?: string };
  _pax: Record<string, string> | null;
  _paxGlobal: Record<string, string> | null;
  _decodeLongHeader(buf: Buffer): void;
}

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
