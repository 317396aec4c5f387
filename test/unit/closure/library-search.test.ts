import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ElfInfo } from '../../../src/closure/elf-reader.js';
import { expandGlob, readLdSoConf, readMuslPath } from '../../../src/closure/ld-so-conf.js';
import { expandTokens, LibrarySearch } from '../../../src/closure/library-search.js';
import { debianLayout, DEBIAN_TEXT, LayoutBuilder, MULTIARCH } from './debian-layout.js';
import { compileSamples, type ElfSamples } from './elf-samples.js';
import { hostElves, textReader } from './host-elves.js';

let samples: ElfSamples;
let elves: Awaited<ReturnType<typeof hostElves>>;
beforeAll(async () => {
  samples = compileSamples();
  elves = await hostElves({
    '/app/bin/server': samples.appRunpath,
    '/app/bin/legacy': samples.appRpath,
    '/app/lib/libgreet.so.1': samples.libgreet,
    ...(samples.lib32 === undefined ? {} : { '/usr/lib/libgreet32/libselinux.so.1': samples.lib32 }),
  });
});
afterAll(() => samples?.cleanup());

function info(path: string): ElfInfo {
  return elves.infos.get(path)!;
}

function appLayout() {
  return debianLayout().dir('/app').dir('/app/bin').dir('/app/lib').elf('/app/bin/server').elf('/app/bin/legacy').elf('/app/lib/libgreet.so.1');
}

function searchIn(builder: LayoutBuilder, env: Record<string, string> = {}, text = DEBIAN_TEXT) {
  return new LibrarySearch({ index: builder.index, env, readText: textReader(text), readElf: (path) => elves.readElf(path) });
}

describe('ld.so.conf', () => {
  it('expands include globs in sorted order, relative to the including file', async () => {
    const { index } = debianLayout();
    expect(expandGlob(index, '/etc/ld.so.conf.d/*.conf')).toEqual(['/etc/ld.so.conf.d/libc.conf', '/etc/ld.so.conf.d/x86_64-linux-gnu.conf']);
    expect(await readLdSoConf(index, textReader(DEBIAN_TEXT))).toEqual([
      '/usr/local/lib',
      '/usr/local/lib/x86_64-linux-gnu',
      '/lib/x86_64-linux-gnu',
      '/usr/lib/x86_64-linux-gnu',
    ]);
  });

  it('survives include cycles and missing files', async () => {
    const { index } = new LayoutBuilder().dir('/etc').file('/etc/ld.so.conf').file('/etc/b.conf');
    const text = { '/etc/ld.so.conf': 'include b.conf\n/opt/a\n', '/etc/b.conf': 'include /etc/ld.so.conf\n/opt/b # comment\nhwcap 0 nosegneg\n' };
    expect(await readLdSoConf(index, textReader(text))).toEqual(['/opt/b', '/opt/a']);
    expect(await readLdSoConf(new LayoutBuilder().index, textReader({}))).toEqual([]);
  });

  it("reads musl's path file, or falls back to musl's default", async () => {
    const { index } = new LayoutBuilder().dir('/etc').file('/etc/ld-musl-x86_64.path');
    expect(await readMuslPath(index, textReader({ '/etc/ld-musl-x86_64.path': '/lib:/usr/lib\n/opt/lib\n' }), 'x86_64')).toEqual([
      '/lib',
      '/usr/lib',
      '/opt/lib',
    ]);
    expect(await readMuslPath(index, textReader({}), 'aarch64')).toEqual(['/lib', '/usr/local/lib', '/usr/lib']);
  });
});

describe('expandTokens', () => {
  it('expands $ORIGIN, ${ORIGIN}, $LIB and $PLATFORM', () => {
    const owner = { path: '/app/bin/server', info: info('/app/bin/server') };
    expect(expandTokens('$ORIGIN/../lib', owner)).toBe('/app/lib');
    expect(expandTokens('${ORIGIN}/x', owner)).toBe('/app/bin/x');
    expect(expandTokens('/opt/$LIB/$PLATFORM', owner)).toBe('/opt/lib64/x86_64');
    expect(expandTokens('relative/dir', owner)).toBeUndefined();
  });
});

describe('LibrarySearch', () => {
  it('finds libc through the ld.so.conf multiarch directory, via the /lib root link', async () => {
    const ls = { path: '/usr/bin/ls', info: info('/usr/bin/ls') };
    const found = await searchIn(debianLayout()).find('libc.so.6', ls);
    expect(found).toMatchObject({ path: '/lib/x86_64-linux-gnu/libc.so.6', final: `${MULTIARCH}/libc.so.6`, source: 'ld.so.conf' });
  });

  it('uses DT_RUNPATH with $ORIGIN', async () => {
    const server = { path: '/app/bin/server', info: info('/app/bin/server') };
    const found = await searchIn(appLayout()).find('libgreet.so.1', server);
    expect(found).toMatchObject({ path: '/app/lib/libgreet.so.1', source: 'RUNPATH', searched: ['/app/lib'] });
  });

  it('searches LD_LIBRARY_PATH before DT_RUNPATH, and DT_RPATH before LD_LIBRARY_PATH', async () => {
    const layout = appLayout().dir('/opt').elf('/opt/libgreet.so.1', {});
    elves.infos.set('/opt/libgreet.so.1', info('/app/lib/libgreet.so.1'));
    const search = searchIn(layout, { LD_LIBRARY_PATH: '/opt' });
    const server = { path: '/app/bin/server', info: info('/app/bin/server') };
    const legacy = { path: '/app/bin/legacy', info: info('/app/bin/legacy') };
    expect((await search.find('libgreet.so.1', server)).path).toBe('/opt/libgreet.so.1');
    expect((await search.find('libgreet.so.1', legacy)).path).toBe('/app/lib/libgreet.so.1');
  });

  it("applies the executable's DT_RPATH to its libraries' lookups", async () => {
    const legacy = { path: '/app/bin/legacy', info: info('/app/bin/legacy') };
    const selinux = { path: '/lib/x86_64-linux-gnu/libselinux.so.1', info: info(`${MULTIARCH}/libselinux.so.1`) };
    const dirs = await searchIn(appLayout()).searchPath(selinux, [legacy]);
    expect(dirs[0]).toEqual({ dir: '/app/lib', source: 'RPATH', from: '/app/bin/legacy' });
  });

  it('ignores DT_RPATH when the object has DT_RUNPATH', async () => {
    const withBoth = { path: '/app/bin/server', info: { ...info('/app/bin/server'), rpath: ['/nowhere'] } };
    const dirs = await searchIn(appLayout()).searchPath(withBoth);
    expect(dirs.map((d) => d.source)).not.toContain('RPATH');
  });

  it('skips a library of the wrong class, as ld.so does', async (context) => {
    if (samples.lib32 === undefined) context.skip();
    const layout = debianLayout().dir('/usr/lib/libgreet32').elf('/usr/lib/libgreet32/libselinux.so.1');
    const ls = { path: '/usr/bin/ls', info: info('/usr/bin/ls') };
    const found = await searchIn(layout, { LD_LIBRARY_PATH: '/usr/lib/libgreet32' }).find('libselinux.so.1', ls);
    expect(found.final).toBe(`${MULTIARCH}/libselinux.so.1`);
    expect(found.searched[0]).toBe('/usr/lib/libgreet32');
  });

  it('skips files that are not ELF', async () => {
    const layout = debianLayout().dir('/usr/local').dir('/usr/local/lib').file('/usr/local/lib/libc.so.6');
    const ls = { path: '/usr/bin/ls', info: info('/usr/bin/ls') };
    expect((await searchIn(layout).find('libc.so.6', ls)).final).toBe(`${MULTIARCH}/libc.so.6`);
  });

  it('falls back to the default directories without ld.so.conf', async () => {
    const ls = { path: '/usr/bin/ls', info: info('/usr/bin/ls') };
    const found = await searchIn(debianLayout(), {}, {}).find('libc.so.6', ls);
    expect(found).toMatchObject({ source: 'default', path: '/lib/x86_64-linux-gnu/libc.so.6' });
  });

  it('reports where it looked when a library is nowhere', async () => {
    const ls = { path: '/usr/bin/ls', info: info('/usr/bin/ls') };
    const found = await searchIn(debianLayout()).find('libnope.so.1', ls);
    expect(found.path).toBeUndefined();
    expect(found.searched).toContain('/usr/lib');
  });

  it("uses musl's path file and answers libc names with the loader itself", async () => {
    const layout = new LayoutBuilder()
      .dir('/')
      .dir('/lib')
      .dir('/etc')
      .elf('/lib/ld-musl-x86_64.so.1', { kind: undefined })
      .link('/lib/libc.musl-x86_64.so.1', 'ld-musl-x86_64.so.1')
      .dir('/opt')
      .file('/opt/libz.so.1', { kind: undefined })
      .file('/etc/ld-musl-x86_64.path');
    const exe: ElfInfo = { ...info('/usr/bin/ls'), interpreter: '/lib/ld-musl-x86_64.so.1', needed: ['libc.musl-x86_64.so.1', 'libz.so.1'] };
    const search = new LibrarySearch({
      index: layout.index,
      readText: textReader({ '/etc/ld-musl-x86_64.path': '/opt\n' }),
      readElf: async () => undefined,
    });
    expect(await search.find('libc.musl-x86_64.so.1', { path: '/usr/bin/app', info: exe })).toMatchObject({
      path: '/lib/ld-musl-x86_64.so.1',
      source: 'loader itself',
    });
    expect(await search.find('libz.so.1', { path: '/usr/bin/app', info: exe })).toMatchObject({ path: '/opt/libz.so.1', source: 'musl path' });
  });
});
