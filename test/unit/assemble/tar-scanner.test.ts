// The tar scanner must read what tar-stream reads (names and PAX records byte for byte), give the
// offset of every entry's content, and not depend on how the stream is cut into chunks.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, linkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Header } from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeUstarHeader } from '../../../src/assemble/pax-records.js';
import { TarCorruptError, TarScanner } from '../../../src/assemble/tar-scanner.js';
import { byteExtract } from './tar-stream-reference.js';

const work = mkdtempSync(join(tmpdir(), 'slimify-tar-scanner-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const LATIN1_NAME = Buffer.from([0x63, 0x61, 0x66, 0xe9]); // "caf\xe9", not UTF-8
const DEEP = Array.from({ length: 8 }, (_, i) => `level-${i}-with-a-rather-long-directory-name`).join('/');

let root: string | undefined;
function tree(): string {
  if (root) return root;
  root = join(work, 'root');
  mkdirSync(join(root, DEEP), { recursive: true });
  writeFileSync(join(root, DEEP, 'file.txt'), 'deep\n');
  writeFileSync(Buffer.concat([Buffer.from(`${root}/`), LATIN1_NAME]), 'latin1\n');
  writeFileSync(join(root, 'big'), Buffer.alloc(70_000, 7));
  writeFileSync(join(root, 'empty'), '');
  linkSync(join(root, 'big'), join(root, 'big-link'));
  symlinkSync(`/${DEEP}/${DEEP}`, join(root, 'long-symlink'));
  execFileSync('setcap', ['cap_net_raw=+ep', join(root, 'big')]);
  return root;
}

function archive(format: 'posix' | 'gnu' | 'ustar-ish'): Buffer {
  const out = join(work, `${format}.tar`);
  const args = format === 'posix' ? ['--format=posix', '--xattrs', '--xattrs-include=*'] : ['--format=gnu'];
  execFileSync('tar', [...args, '--sort=name', '-C', tree(), '-cf', out, '.']);
  return readFileSync(out);
}

interface Seen {
  header: Header;
  offset: number;
  content: Buffer;
}

function scan(bytes: Buffer, chunkSize: number): Seen[] {
  const seen: Seen[] = [];
  const scanner = new TarScanner({
    entry: (header, offset) => seen.push({ header, offset, content: Buffer.alloc(0) }),
    data: (chunk) => {
      const last = seen[seen.length - 1]!;
      last.content = Buffer.concat([last.content, chunk]);
    },
  });
  for (let at = 0; at < bytes.length; at += chunkSize) scanner.write(bytes.subarray(at, at + chunkSize));
  scanner.end();
  return seen;
}

async function withTarStream(bytes: Buffer): Promise<Array<{ header: Header; content: Buffer }>> {
  const extract = byteExtract();
  const found: Array<{ header: Header; content: Buffer }> = [];
  const done = (async () => {
    for await (const entry of extract) {
      const parts: Buffer[] = [];
      for await (const chunk of entry) parts.push(chunk as Buffer);
      found.push({ header: entry.header, content: Buffer.concat(parts) });
    }
  })();
  Readable.from([bytes]).pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return found;
}

function comparable(h: Header) {
  return { name: h.name, type: h.type, size: h.size, mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime.getTime(), linkname: h.linkname || '', uname: h.uname, gname: h.gname, pax: h.pax ?? undefined };
}

describe.each(['posix', 'gnu'] as const)('TarScanner on a GNU tar archive in %s format', (format) => {
  const bytes = archive(format);

  it('reads every header as tar-stream does, byte for byte', async () => {
    const expected = await withTarStream(bytes);
    const seen = scan(bytes, 65_536);
    expect(seen.map((s) => comparable(s.header))).toEqual(expected.map((e) => comparable(e.header)));
    expect(seen.map((s) => s.content.toString('hex'))).toEqual(expected.map((e) => e.content.toString('hex')));
    expect(seen.map((s) => s.header.name)).toContain(`./${LATIN1_NAME.toString('latin1')}`);
    expect(seen.find((s) => s.header.name === './long-symlink')!.header.linkname).toBe(`/${DEEP}/${DEEP}`);
    if (format === 'posix') expect((seen.find((s) => s.header.name === './big')!.header.pax as Record<string, string>)['SCHILY.xattr.security.capability']).toBeDefined();
  });

  it('gives offsets where each file\'s content starts in the stream', () => {
    for (const s of scan(bytes, 65_536)) {
      if (s.header.type === 'file') expect(bytes.subarray(s.offset, s.offset + s.header.size).equals(s.content)).toBe(true);
    }
  });

  it('reads the same whatever the chunk sizes', () => {
    const whole = scan(bytes, bytes.length);
    for (const size of [7, 511, 513, 4096]) expect(scan(bytes, size)).toEqual(whole);
  });
});

describe('TarScanner on damaged or hostile input', () => {
  const one = Buffer.concat([encodeUstarHeader({ name: 'a', mode: 0o644, uid: 0, gid: 0, size: 3, mtime: new Date(0), typeflag: '0' }), Buffer.from('abc'), Buffer.alloc(509), Buffer.alloc(1024)]);

  it('refuses a header whose checksum does not match', () => {
    const bad = Buffer.from(one);
    bad[0] = 0x62;
    expect(() => scan(bad, 512)).toThrow(TarCorruptError);
  });

  it('refuses a stream that ends inside an entry', () => {
    expect(() => scan(one.subarray(0, 600), 512)).toThrow(/unexpected end/);
  });

  it('reads sizes in base-256', () => {
    const header = encodeUstarHeader({ name: 'a', mode: 0o644, uid: 0, gid: 0, size: 3, mtime: new Date(0), typeflag: '0' });
    header.fill(0, 124, 136);
    header[124] = 0x80;
    header[135] = 3;
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const seen = scan(Buffer.concat([header, one.subarray(512)]), 512);
    expect(seen[0]!.header.size).toBe(3);
    expect(seen[0]!.content.toString()).toBe('abc');
  });

  it('refuses an extended header too large to hold in memory', () => {
    const pax = encodeUstarHeader({ name: 'PaxHeader', mode: 0o644, uid: 0, gid: 0, size: 64 * 1024 * 1024, mtime: new Date(0), typeflag: 'x' });
    expect(() => scan(pax, 512)).toThrow(/larger than slimify accepts/);
  });
});
