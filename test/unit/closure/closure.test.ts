import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlimifyError } from '../../../src/errors.js';
import { ElfFormatError } from '../../../src/closure/elf-reader.js';
import { computeClosure, envProgram, type ClosureInput, type Reason } from '../../../src/closure/closure.js';
import { debianLayout, DEBIAN_TEXT, LayoutBuilder, MULTIARCH } from './debian-layout.js';
import { compileSamples, type ElfSamples } from './elf-samples.js';
import { hostElves, textReader } from './host-elves.js';

let samples: ElfSamples;
let elves: Awaited<ReturnType<typeof hostElves>>;
beforeAll(async () => {
  samples = compileSamples();
  elves = await hostElves({
    '/app/bin/server': samples.appRunpath,
    '/app/lib/libgreet.so.1': samples.libgreet,
    '/usr/bin/static-tool': samples.staticExe,
  });
});
afterAll(() => samples?.cleanup());

const traced = (path: string) => ({ path, reason: { kind: 'traced', detail: 'opened by the app' } satisfies Reason });
const executed = (path: string) => ({ path, reason: { kind: 'executed' } satisfies Reason });

async function closure(builder: LayoutBuilder, input: Partial<ClosureInput> = {}) {
  elves.reads.length = 0;
  return computeClosure({
    index: builder.index,
    seeds: [],
    readElf: elves.readElf,
    readText: textReader(DEBIAN_TEXT),
    rules: { userDatabases: false, caCertificates: false },
    ...input,
  });
}

function kinds(reasons: Reason[] | undefined): string[] {
  return (reasons ?? []).map((reason) => reason.kind);
}

function appLayout(): LayoutBuilder {
  return debianLayout()
    .dir('/app')
    .dir('/app/bin')
    .dir('/app/lib')
    .elf('/app/bin/server')
    .elf('/app/lib/libgreet.so.1', { mode: 0o644 })
    .script('/app/run.sh', '/bin/sh -e')
    .script('/app/tool.py', '/usr/bin/env python3')
    .elf('/usr/bin/python3.11')
    .link('/usr/bin/python3', 'python3.11')
    .elf('/usr/bin/static-tool');
}

describe('computeClosure', () => {
  it('keeps the ELF interpreter of a kept binary through the /lib64 root link', async () => {
    const { keep } = await closure(debianLayout(), { seeds: [executed('/usr/bin/ls')] });
    expect(kinds(keep.get('/lib64'))).toContain('symlink');
    expect(kinds(keep.get('/usr/lib64/ld-linux-x86-64.so.2'))).toContain('symlink');
    expect(keep.get(`${MULTIARCH}/ld-linux-x86-64.so.2`)).toContainEqual({
      kind: 'elf-interpreter',
      detail: 'interpreter of /usr/bin/ls',
      from: '/usr/bin/ls',
    });
  });

  it('keeps the libraries a binary needs, transitively, naming who needs them', async () => {
    const { keep, missing } = await closure(debianLayout(), { seeds: [executed('/usr/bin/ls')] });
    expect(keep.get(`${MULTIARCH}/libselinux.so.1`)).toContainEqual({ kind: 'elf-needed', detail: 'needed by /usr/bin/ls', from: '/usr/bin/ls' });
    // libpcre2 is needed by libselinux, not by ls, and reached through its versioned symlink.
    expect(keep.get(`${MULTIARCH}/libpcre2-8.so.0`)).toEqual([{ kind: 'symlink', from: '/lib/x86_64-linux-gnu/libpcre2-8.so.0' }]);
    expect(keep.get(`${MULTIARCH}/libpcre2-8.so.0.11.2`)).toContainEqual({
      kind: 'elf-needed',
      detail: `needed by ${MULTIARCH}/libselinux.so.1`,
      from: `${MULTIARCH}/libselinux.so.1`,
    });
    expect(kinds(keep.get(`${MULTIARCH}/libc.so.6`))).toContain('elf-needed');
    expect(missing).toEqual([]);
  });

  it('keeps the libraries a binary needs via RUNPATH $ORIGIN', async () => {
    const { keep, missing } = await closure(appLayout(), { seeds: [executed('/app/bin/server')] });
    expect(keep.get('/app/lib/libgreet.so.1')).toContainEqual({
      kind: 'elf-needed',
      detail: 'needed by /app/bin/server',
      from: '/app/bin/server',
    });
    expect(keep.has(`${MULTIARCH}/libc.so.6`)).toBe(true);
    expect(missing).toEqual([]);
  });

  it('keeps /bin/sh for a #! script', async () => {
    const { keep } = await closure(appLayout(), { seeds: [executed('/app/run.sh')] });
    expect(kinds(keep.get('/bin'))).toEqual(['symlink']);
    expect(kinds(keep.get('/usr/bin/sh'))).toEqual(['symlink']);
    expect(keep.get('/usr/bin/dash')).toContainEqual({ kind: 'script-interpreter', detail: 'interpreter of /app/run.sh', from: '/app/run.sh' });
    // ... and dash, an ELF program, brings its loader and libc.
    expect(keep.has(`${MULTIARCH}/libc.so.6`)).toBe(true);
  });

  it('finds the program of #!/usr/bin/env in the image PATH', async () => {
    const { keep } = await closure(appLayout(), { seeds: [executed('/app/tool.py')], env: { PATH: '/usr/local/bin:/usr/bin:/bin' } });
    expect(kinds(keep.get('/usr/bin/env'))).toContain('script-interpreter');
    expect(kinds(keep.get('/usr/bin/python3'))).toEqual(['symlink']);
    expect(keep.get('/usr/bin/python3.11')).toContainEqual({
      kind: 'script-interpreter',
      detail: 'run through env by /app/tool.py',
      from: '/app/tool.py',
    });
  });

  it('keeps every symlink on the way, and the target with the seed reason', async () => {
    const { keep } = await closure(debianLayout(), { seeds: [traced('/lib64/ld-linux-x86-64.so.2')] });
    expect(keep.get('/lib64')).toEqual([{ kind: 'symlink', from: '/lib64/ld-linux-x86-64.so.2' }]);
    expect(kinds(keep.get('/usr/lib64/ld-linux-x86-64.so.2'))).toEqual(['symlink']);
    expect(keep.get(`${MULTIARCH}/ld-linux-x86-64.so.2`)).toEqual([traced('').reason]);
  });

  it('keeps the target of a kept symlink', async () => {
    const { keep } = await closure(debianLayout(), { seeds: [{ path: '/etc/ssl/certs/4042bcee.0', reason: { kind: 'include' } }] });
    expect(keep.has('/etc/ssl/certs/ISRG_Root_X1.pem')).toBe(true);
    expect(keep.get('/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt')).toContainEqual({ kind: 'include' });
  });

  it('keeps parents with their own entries, not whole directories', async () => {
    const { keep } = await closure(debianLayout(), { seeds: [traced('/usr/share/doc/README')] });
    expect([...keep.keys()]).toEqual(['/', '/usr', '/usr/share', '/usr/share/doc', '/usr/share/doc/README']);
    expect(keep.get('/usr/share')).toEqual([{ kind: 'parent' }]);
  });

  it('keeps a directory seed without its contents', async () => {
    const { keep } = await closure(debianLayout(), { seeds: [traced('/usr/share/doc')] });
    expect(keep.has('/usr/share/doc')).toBe(true);
    expect(keep.has('/usr/share/doc/README')).toBe(false);
  });

  it('keeps everything under an expanded directory', async () => {
    const { keep } = await closure(appLayout(), { expandDirectories: ['/app'] });
    for (const path of ['/app', '/app/bin/server', '/app/lib/libgreet.so.1', '/app/run.sh']) expect(keep.has(path)).toBe(true);
    expect(keep.get('/app/run.sh')).toEqual([{ kind: 'include', detail: 'under /app' }]);
    // The included programs bring what they need.
    expect(keep.has('/usr/bin/dash')).toBe(true);
    expect(keep.has('/usr/bin/python3.11')).toBe(true);
  });

  it('reports a DT_NEEDED that cannot be found as missing', async () => {
    const layout = debianLayout().elf('/usr/bin/broken');
    elves.infos.set('/usr/bin/broken', { ...elves.infos.get('/usr/bin/ls')!, needed: ['libnope.so.1', 'libc.so.6'] });
    const { missing, warnings, keep } = await closure(layout, { seeds: [executed('/usr/bin/broken')] });
    expect(missing).toEqual([{ path: 'libnope.so.1', reason: { kind: 'elf-needed', detail: 'needed by /usr/bin/broken', from: '/usr/bin/broken' } }]);
    expect(warnings.some((w) => w.startsWith('libnope.so.1 (needed by /usr/bin/broken) not found'))).toBe(true);
    expect(keep.has(`${MULTIARCH}/libc.so.6`)).toBe(true);
  });

  it('reports a missing script interpreter', async () => {
    const layout = debianLayout().script('/usr/bin/tool', '/usr/bin/perl -w');
    const { missing } = await closure(layout, { seeds: [executed('/usr/bin/tool')] });
    expect(missing).toEqual([{ path: '/usr/bin/perl', reason: { kind: 'script-interpreter', detail: 'interpreter of /usr/bin/tool', from: '/usr/bin/tool' } }]);
  });

  it('adds nothing for a static binary', async () => {
    const { keep } = await closure(appLayout(), { seeds: [executed('/usr/bin/static-tool')] });
    expect([...keep.keys()]).toEqual(['/', '/usr', '/usr/bin', '/usr/bin/static-tool']);
  });

  it('keeps the target of a kept hardlink', async () => {
    const layout = debianLayout().hardlink('/usr/bin/ls-again', '/usr/bin/ls');
    const { keep } = await closure(layout, { seeds: [executed('/usr/bin/ls-again')] });
    expect(keep.get('/usr/bin/ls')).toContainEqual({ kind: 'hardlink-target', from: '/usr/bin/ls-again' });
    // The hardlink's bytes are an ELF program: its libraries come too.
    expect(keep.has(`${MULTIARCH}/libselinux.so.1`)).toBe(true);
  });

  it('keeps the nearest existing ancestors of created paths, through symlinks', async () => {
    const { keep } = await closure(debianLayout(), {
      createdIn: ['/var/cache/nginx/client_temp/0/1', '/var/run/nginx.pid', '/tmp/x'],
    });
    expect(keep.get('/var/cache/nginx')).toEqual([{ kind: 'created-in', detail: 'the app created /var/cache/nginx/client_temp/0/1' }]);
    expect(kinds(keep.get('/var/run'))).toEqual(['symlink']);
    expect(kinds(keep.get('/run'))).toEqual(['created-in']);
    expect(kinds(keep.get('/tmp'))).toEqual(['created-in']);
    expect(keep.has('/var/cache')).toBe(true);
  });

  it('ignores seeds that are not in the image but lists them, keeping the links on their way', async () => {
    const { keep, absent } = await closure(debianLayout(), { seeds: [traced('/var/run/app.sock'), traced('/proc/self/status')] });
    expect(absent.map((a) => a.path)).toEqual(['/proc/self/status', '/var/run/app.sock']);
    expect(keep.has('/var/run')).toBe(true);
    expect(keep.has('/proc/self/status')).toBe(false);
  });

  it('keeps a traced dangling symlink as a link, with a warning', async () => {
    const layout = debianLayout().link('/etc/mtab', '../proc/self/mounts');
    const { keep, absent, warnings } = await closure(layout, { seeds: [traced('/etc/mtab')] });
    expect(keep.get('/etc/mtab')).toContainEqual(traced('').reason);
    expect(absent).toEqual([]);
    expect(warnings).toContain('/etc/mtab is a dangling symlink in the image');
  });

  it('turns an unreadable ELF file into a warning, and an engine failure into an error', async () => {
    const layout = debianLayout();
    const notElf = await computeClosure({
      index: layout.index,
      seeds: [executed('/usr/bin/ls')],
      readElf: async () => {
        throw new ElfFormatError('Truncated ELF file: the ELF header is incomplete.');
      },
      readText: textReader(DEBIAN_TEXT),
    });
    expect(notElf.keep.has('/usr/bin/ls')).toBe(true);
    expect(notElf.warnings.some((w) => w.startsWith('/usr/bin/ls: not a readable ELF file'))).toBe(true);
    const failing = computeClosure({
      index: layout.index,
      seeds: [executed('/usr/bin/ls')],
      readElf: async () => {
        throw new Error('connection reset');
      },
      readText: textReader(DEBIAN_TEXT),
    });
    await expect(failing).rejects.toThrow(SlimifyError);
    await expect(failing).rejects.toMatchObject({ stage: 'closure', cause: new Error('connection reset') });
  });

  it('keeps user databases and CA certificates by rule', async () => {
    const { keep } = await closure(debianLayout(), { rules: {} });
    expect(keep.get('/etc/passwd')).toEqual([{ kind: 'rule', detail: 'user database' }]);
    expect(keep.has('/etc/group')).toBe(true);
    expect(keep.has('/etc/nsswitch.conf')).toBe(true);
    expect(keep.has('/etc/shadow')).toBe(false);
    expect(keep.get('/etc/ssl/certs/ca-certificates.crt')).toEqual([{ kind: 'rule', detail: 'CA certificates' }]);
    expect(keep.has('/etc/ssl/certs/4042bcee.0')).toBe(true);
    expect(kinds(keep.get('/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt'))).toContain('rule');
  });

  it('keeps nothing by rule when the rules are off or the files are absent', async () => {
    expect([...(await closure(debianLayout())).keep.keys()]).toEqual([]);
    const { keep } = await closure(new LayoutBuilder().dir('/').dir('/etc'), { rules: {} });
    expect(keep.size).toBe(0);
  });

  it('reads each ELF file once', async () => {
    await closure(appLayout(), {
      seeds: [executed('/usr/bin/ls'), executed('/usr/bin/dash'), executed('/app/bin/server'), traced('/lib/x86_64-linux-gnu/libc.so.6')],
    });
    expect(elves.reads.length).toBe(new Set(elves.reads).size);
  });

  it('gives the same output whatever the order of its inputs', async () => {
    const seeds = [executed('/usr/bin/ls'), executed('/app/run.sh'), traced('/etc/passwd'), traced('/app/bin/server')];
    const forward = await closure(appLayout(), { seeds });
    const backward = await closure(appLayout(), { seeds: [...seeds].reverse() });
    expect(JSON.stringify([...backward.keep])).toBe(JSON.stringify([...forward.keep]));
    expect([...forward.keep.keys()]).toEqual([...forward.keep.keys()].sort());
  });

  it('handles a long chain of libraries without recursion', async () => {
    const layout = debianLayout().dir('/opt');
    const base = elves.infos.get(`${MULTIARCH}/libselinux.so.1`)!;
    for (let i = 0; i < 5000; i++) {
      layout.elf(`/opt/lib${i}.so`);
      elves.infos.set(`/opt/lib${i}.so`, { ...base, needed: i === 4999 ? [] : [`lib${i + 1}.so`], runpath: ['/opt'], soname: `lib${i}.so` });
    }
    const { keep } = await closure(layout, { seeds: [traced('/opt/lib0.so')] });
    expect(keep.has('/opt/lib4999.so')).toBe(true);
  });
});

describe('envProgram', () => {
  it('takes the argument as the program, or splits it with -S', () => {
    expect(envProgram('python3')).toBe('python3');
    expect(envProgram('-S python3 -u')).toBe('python3');
    expect(envProgram('-S PYTHONPATH=/x python3')).toBe('python3');
    expect(envProgram('-i python3')).toBeUndefined();
    expect(envProgram(undefined)).toBeUndefined();
  });
});
