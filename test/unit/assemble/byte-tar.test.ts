// The slim layer keeps every byte of what it copies: names that are not UTF-8, long deep paths,
// and binary xattr values such as file capabilities. Archives made by GNU tar (a real tar dialect
// with PAX xattr records), indexed and re-packed by writeLayer, then read back by GNU tar and getcap.
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TarScanner } from '../../../src/assemble/tar-scanner.js';
import { absolutePath } from '../../../src/assemble/tar-entry.js';
import { indexWithCopy, writeLayerFile } from './copy-support.js';

/** Indexes a tar archive (keeping a copy) and writes the kept paths as a layer. */
async function relayer(archive: string, keep: Set<string>, out: string, clampMtime: Date) {
  const { indexed, copy } = await indexWithCopy(createReadStream(archive), work);
  return writeLayerFile({ index: indexed.index, headers: indexed.headers, content: (path) => copy.range(path) }, keep, out, { clampMtime });
}

const work = mkdtempSync(join(tmpdir(), 'slimify-byte-tar-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const LATIN1_NAME = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]); // "caf\xe9.txt", not UTF-8
const DEEP = Array.from({ length: 12 }, (_, i) => `directory-level-${i}-with-a-long-name`).join('/');

/** A tree with odd names and a capability, archived by GNU tar in PAX format with xattrs. */
function gnuTarArchive(): { archive: string; capability: string } {
  const root = join(work, 'root');
  mkdirSync(join(root, DEEP), { recursive: true });
  writeFileSync(join(root, DEEP, 'deep-file.txt'), 'deep\n');
  writeFileSync(Buffer.concat([Buffer.from(`${root}/`), LATIN1_NAME]), 'latin1 name\n');
  writeFileSync(join(root, 'ping'), '#!/bin/sh\n', { mode: 0o755 });
  execFileSync('setcap', ['cap_net_bind_service=+ep', join(root, 'ping')]);
  symlinkSync('/etc/shadow', join(root, 'shadow-link'));
  const archive = join(work, 'source.tar');
  execFileSync('tar', ['--format=posix', '--xattrs', '--xattrs-include=*', '-C', root, '-cf', archive, '.']);
  return { archive, capability: execFileSync('getcap', [join(root, 'ping')]).toString() };
}

function entries(path: string): Map<string, { linkname?: string | null; pax?: Record<string, string> }> {
  const found = new Map<string, { linkname?: string | null; pax?: Record<string, string> }>();
  const scanner = new TarScanner({ entry: (header) => found.set(header.name, { linkname: header.linkname, pax: header.pax as Record<string, string> | undefined }) });
  scanner.write(readFileSync(path));
  scanner.end();
  return found;
}

describe('writeLayer on a GNU tar archive', () => {
  const { archive, capability } = gnuTarArchive();
  const keep = new Set(['/ping', `/${DEEP}/deep-file.txt`, absolutePath(LATIN1_NAME.toString('latin1')), '/shadow-link']);

  it('reads the capability as the exact bytes GNU tar wrote', async () => {
    const read = entries(archive);
    const cap = read.get('./ping')?.pax?.['SCHILY.xattr.security.capability'];
    expect(cap).toBeDefined();
    expect(Buffer.from(cap!, 'latin1').readUInt32LE(0) >>> 24).toBe(2); // VFS_CAP_REVISION_2
  });

  it('keeps non-UTF-8 names, long paths, symlink targets and file capabilities byte for byte', async () => {
    const out = join(work, 'layer.tar');
    const result = await relayer(archive, keep, out, new Date());
    expect(result.entries).toBe(4);

    const listed = execFileSync('tar', ['--quoting-style=literal', '-tf', out]);
    const names = listed.toString('latin1').split('\n').filter(Boolean);
    expect(names).toContain(LATIN1_NAME.toString('latin1'));
    expect(names).toContain(`${DEEP}/deep-file.txt`);
    expect(Buffer.byteLength(`${DEEP}/deep-file.txt`)).toBeGreaterThan(255);

    const restored = join(work, 'restored');
    mkdirSync(restored);
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '-C', restored, '-xf', out]);
    expect(readFileSync(Buffer.concat([Buffer.from(`${restored}/`), LATIN1_NAME])).toString()).toBe('latin1 name\n');
    expect(execFileSync('getcap', [join(restored, 'ping')]).toString().replace(restored, '')).toBe(capability.replace(join(work, 'root'), ''));
    expect(execFileSync('readlink', [join(restored, 'shadow-link')]).toString().trim()).toBe('/etc/shadow');
  });

  it('gives the same bytes for the same input', async () => {
    const a = await relayer(archive, keep, join(work, 'a.tar'), new Date(0));
    const b = await relayer(archive, keep, join(work, 'b.tar'), new Date(0));
    expect(a.diffId).toBe(b.diffId);
  });
});
