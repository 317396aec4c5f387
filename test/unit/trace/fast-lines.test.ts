import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ByteCall, CALL, DECLINE, RESUMED_CALL, UNFINISHED_CALL } from '../../../src/trace/byte-call.js';
import { FastLines } from '../../../src/trace/fast-lines.js';
import { LineMemo } from '../../../src/trace/line-memo.js';
import { ScannedCall } from '../../../src/trace/strace-line.js';
import { TraceParser, type TraceParserOptions } from '../../../src/trace/trace-parser.js';
import type { TraceSummary } from '../../../src/trace/trace-summary.js';

// The byte-level fast path must give exactly what feed() gives for the same lines as text:
// every test here parses its lines both ways and compares, then checks the result itself.

const SAMPLES = fileURLToPath(new URL('../../samples/strace/', import.meta.url));
const SAMPLE_FILES = readdirSync(SAMPLES).filter((f) => f.endsWith('.log'));
const REAL_LINES = SAMPLE_FILES.flatMap((f) => readFileSync(SAMPLES + f, 'latin1').split('\n').filter(Boolean));

afterEach(() => {
  vi.restoreAllMocks();
});

function viaText(lines: readonly string[], options: TraceParserOptions): TraceSummary {
  const parser = new TraceParser(options);
  for (const line of lines) parser.feed(line);
  return parser.summary();
}

/** feedBytes with every line inside one buffer, between other bytes, as LineSplitter hands them on. */
function viaBytes(lines: readonly string[], options: TraceParserOptions): TraceSummary {
  const parser = new TraceParser(options);
  const buf = Buffer.from('\n' + lines.join('\n') + '\n', 'latin1');
  let start = 1;
  for (const line of lines) {
    const end = start + Buffer.byteLength(line, 'latin1');
    parser.feedBytes(buf, start, end);
    start = end + 1;
  }
  return parser.summary();
}

/** Parse both ways, expect the same summary, and return it with the share of lines the fast path took. */
function both(lines: readonly string[], options: TraceParserOptions = { initialCwd: '/app' }): TraceSummary & { fast: number } {
  const handle = vi.spyOn(FastLines.prototype, 'handle');
  const bytes = viaBytes(lines, options);
  const fast = handle.mock.results.filter((r) => r.value === true).length;
  handle.mockRestore();
  const text = viaText(lines, options);
  expect(JSON.stringify(bytes)).toBe(JSON.stringify(text));
  return { ...bytes, fast };
}

describe('the fast path (feedBytes)', () => {
  it('takes plain calls of known processes and gives what feed gives', () => {
    const s = both([
      '7  execve("/bin/sh", ["sh"], 0x7ffc /* 3 vars */) = 0',
      '7  openat(AT_FDCWD</app>, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3</etc/ld.so.cache>',
      '7  newfstatat(3</etc/ld.so.cache>, "", {st_mode=S_IFREG|0644, st_size=35403, ...}, AT_EMPTY_PATH) = 0',
      '7  newfstatat(AT_FDCWD</app>, "lib/x.py", 0x7ffc, 0) = -1 ENOENT (No such file or directory)',
      '7  read(3, "\\177ELF\\2\\1\\1"..., 832) = 832',
      '7  access("/etc/x", R_OK) = -1 EACCES (Permission denied)',
      '7  getdents64(4</usr/lib>, 0x55f7be1992a0 /* 12 entries */, 32768) = 480',
      '7  openat(AT_FDCWD</app>, "/usr/lib/libc.so.6", O_RDWR|O_CREAT, 0644) = 5</usr/lib/x86_64/libc.so.6>',
    ]);
    expect(s.fast).toBe(7); // all but the first line of the (new) root process
    expect(s.used.map((u) => [u.path, u.access, u.syscalls, u.errnos ?? [], u.realPaths ?? []])).toEqual([
      ['/bin/sh', ['exec'], ['execve'], [], []],
      ['/etc/ld.so.cache', ['read', 'stat'], ['newfstatat', 'openat'], [], []],
      ['/etc/x', ['stat'], ['access'], ['EACCES'], []],
      ['/usr/lib', ['list'], ['getdents64'], [], []],
      ['/usr/lib/libc.so.6', ['read', 'write'], ['openat'], [], ['/usr/lib/x86_64/libc.so.6']],
      ['/usr/lib/x86_64/libc.so.6', ['write'], ['openat'], [], []],
    ]);
    expect(s.missing.map((m) => m.path)).toEqual(['/app/lib/x.py']);
    expect(s.created.map((c) => c.path)).toEqual(['/usr/lib/libc.so.6']);
    expect(s.listed).toEqual(['/usr/lib']);
  });

  it('decodes escapes in paths and annotations as the text path does, and leaves wide names to it', () => {
    const s = both([
      '1  chdir("/") = 0',
      '1  openat(AT_FDCWD</tmp/odd\\"dir>, "caf\\303\\251", O_RDONLY) = 3</tmp/odd\\"dir/caf\\303\\251>',
      '1  openat(AT_FDCWD</tmp/odd\\"dir>, "x<y>z\\x41", O_RDONLY) = 3</tmp/odd\\"dir/x\\74y\\76zA>',
      '1  newfstatat(3</w/a\\76b\\74c>, "", {st_mode=S_IFREG|0644, ...}, AT_EMPTY_PATH) = 0',
      '1  access("/w/bad\\377", F_OK) = 0',
      '1  access("/w/\\346\\227\\245", F_OK) = 0', // 日: above 0xff, so feed's
      // An annotation cut short by a `>` in it, with an escape past that point.
      '1  newfstatat(3</w/a>\\x41>, "b", 0x7ffc, 0) = 0',
    ]);
    expect(s.fast).toBe(5);
    expect(s.used.map((u) => u.path)).toEqual([
      '/', '/tmp/odd"dir', '/tmp/odd"dir/café', '/tmp/odd"dir/x<y>zA', '/w/a>A/b', '/w/a>b<c', '/w/bad\u00ff', '/w/\u65e5',
    ].filter((p) => p !== '/tmp/odd"dir'));
  });

  it('learns the cwd from AT_FDCWD annotations and joins relative paths to it, as feed does', () => {
    const lines = [
      '1  chdir("/") = 0',
      '1  access("rel", F_OK) = 0',
      '1  openat(AT_FDCWD</srv/x>, "a", O_RDONLY) = 3</srv/x/a>',
      '1  access("b", F_OK) = 0',
      '1  openat(AT_FDCWD</gone (deleted)>, "c", O_RDONLY) = 3</srv/x/c>',
      '1  openat(AT_FDCWD<pipe:[1]>, "d", O_RDONLY) = -1 ENOENT (No such file or directory)',
      '1  newfstatat(AT_FDCWD, "e", 0x7ffc, 0) = 0',
      '1  openat(7<pipe:[12]>, "rel", O_RDONLY) = -1 ENOTDIR (Not a directory)',
      '1  openat(9, "f", O_RDONLY) = 3</srv/x/f>',
      '1  openat(0x3</a>, "f", O_RDONLY) = 3</a/f>',
      '1  openat(3</d>, "../up/./x//y", O_RDONLY) = 4</up/x/y>',
    ];
    const s = both(lines);
    expect(s.used.map((u) => u.path)).toEqual(['/', '/a/f', '/rel', '/srv/x/a', '/srv/x/b', '/srv/x/c', '/srv/x/e', '/up/x/y']);
    expect(s.missing.map((m) => m.path)).toEqual(['/srv/x/d']);
    // A relative initial cwd: joined, then normalised to an absolute path, by both.
    expect(both(lines.slice(1), { initialCwd: 'rel' }).used.map((u) => u.path)).toContain('/rel/rel');
  });

  it('pairs unfinished and resumed halves, and leaves fork-like calls and bad joins to feed', () => {
    const s = both([
      '10  chdir("/w") = 0',
      '11  chdir("/v") = 0',
      '10  openat(AT_FDCWD</w>, "a", O_RDONLY <unfinished ...>',
      '11  newfstatat(AT_FDCWD</v>, "b",  <unfinished ...>',
      '10  <... openat resumed>) = 3</w/a>',
      '11  <... newfstatat resumed>{st_mode=S_IFREG|0644, ...}, 0) = -1 ENOENT (No such file or directory)',
      '10  <... newfstatat resumed>{st_mode=S_IFREG|0644, ...}, 0) = 0', // nothing pending
      '10  wait4(-1,  <unfinished ...>',
      '10  <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 12',
      '10  openat(AT_FDCWD</w>, "c", O_RDONLY <unfinished ...>',
      '10  <... openat resumed>, "extra"  = 3', // no closing parenthesis once joined
      '10  vfork( <unfinished ...>',
      '10  <... vfork resumed>) = 13',
      '10  openat(AT_FDCWD</w>, "d", O_RDONLY <unfinished ...>',
      '10  openat(AT_FDCWD</w>, "e", O_RDONLY <unfinished ...>', // the first never resumes
      '10  <... openat resumed>) = 3</w/e>',
      '13  exit_group(0) = ?',
      '10  exit_group(3) = ?',
    ]);
    expect(s.used.map((u) => u.path)).toEqual(['/v', '/w', '/w/a', '/w/e']);
    expect(s.missing.map((m) => m.path)).toEqual(['/v/b']);
    expect(s.lines).toMatchObject({ malformed: 1, unmatchedResumed: 1, unfinishedAtEnd: 1 });
    expect(s.exit).toEqual({ code: 3 });
  });

  it('holds back lines of new pids while a fork is under way, and adopts them right away otherwise', () => {
    const s = both([
      '10  chdir("/w") = 0',
      '10  clone(child_stack=NULL, flags=CLONE_FS|SIGCHLD <unfinished ...>',
      '11  openat(AT_FDCWD</c>, "/x", O_RDONLY) = 3</x>', // held back: shares 10's cwd once the clone returns
      '10  <... clone resumed>) = 11',
      '10  access("p", F_OK) = 0',
      '12  openat(AT_FDCWD</d>, "/y", O_RDONLY) = 3</y>', // nobody forking: adopted, a cwd of its own
      '10  access("q", F_OK) = 0',
    ]);
    expect(s.used.map((u) => u.path)).toEqual(['/c/p', '/c/q', '/w', '/x', '/y']);
    expect(s.pids).toBe(3);
  });

  it('handles every sample trace as feed does, taking most of their lines', () => {
    let fast = 0;
    for (const file of SAMPLE_FILES) {
      const lines = readFileSync(SAMPLES + file, 'latin1').split('\n').filter(Boolean);
      fast += both(lines).fast;
    }
    expect(fast).toBeGreaterThan(REAL_LINES.length / 2);
  });

  it('matches feed on mutated sample lines (truncated, spliced, escapes and markers inserted)', () => {
    let seed = 99;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const NASTY = ['"', '\\', '\\x41', '\\303\\251', '\\346\\227\\245', '<', '>', ')', ',', ' <unfinished ...>', '<... openat resumed>',
      'AT_FDCWD<', 'AT_EMPTY_PATH', 'O_RDWR', 'O_CREAT', ' (deleted)', '/..', '/./', '//', '\r', '\u00e9', '= ?', '= -1 EINTR'];
    for (let round = 0; round < 4; round++) {
      const lines = Array.from({ length: 3000 }, () => {
        let line = REAL_LINES[rand(REAL_LINES.length)]!;
        for (let m = rand(3); m > 0; m--) {
          const at = rand(line.length + 1);
          if (rand(3) === 0) line = line.slice(0, at);
          else line = line.slice(0, at) + NASTY[rand(NASTY.length)]! + line.slice(at);
        }
        return line.replace(/^\d+/, String(1 + rand(6)));
      });
      both(lines);
    }
  });
});

describe('ByteCall', () => {
  const scan = (line: string): [ByteCall, number] => {
    const call = new ByteCall();
    const bytes = Buffer.from(line, 'latin1');
    const rest = call.scanPid(bytes, 0, bytes.length);
    const kind = rest < 0 ? DECLINE : call.scanRest(bytes, rest, bytes.length);
    // A complete call's arguments and result are scanned on demand (FastLines does once it knows the syscall).
    return [call, kind === CALL && !call.scanCall(bytes, call.partStart, call.partEnd) ? DECLINE : kind];
  };

  it('finds the argument spans and result that ScannedCall finds', () => {
    const body = '3</a,b)c>, "x\\",y", {st_mode=S_IFREG|0644, st_size=1, ...}, [{a=(1), b="}"}], 0x7f /* 2, ) */) = -1 EACCES (x)';
    const [call, kind] = scan(`42  name(${body}`);
    expect(kind).toBe(CALL);
    const text = new ScannedCall();
    expect(text.scan(body, 0, body.length)).toBeUndefined();
    const offset = '42  name('.length;
    expect(call.argc).toBe(text.argc);
    for (let i = 0; i < text.argc; i++) {
      expect([call.argStart(i) - offset, call.argEnd(i) - offset]).toEqual([text.argStart(i), text.argEnd(i)]);
    }
    expect([call.pid, call.value, call.errno]).toEqual([42, -1, 'EACCES']);
  });

  it('cuts unfinished and resumed lines into their parts and declines the rest', () => {
    const [unfinished, u] = scan('5  openat(AT_FDCWD</w>, "a", O_RDONLY <unfinished ...>');
    expect(u).toBe(UNFINISHED_CALL);
    expect(unfinished.bytes.toString('latin1', unfinished.partStart, unfinished.partEnd)).toBe('AT_FDCWD</w>, "a", O_RDONLY');
    const [resumed, r] = scan('5  <... openat resumed>) = 3</w/a>');
    expect(r).toBe(RESUMED_CALL);
    expect(resumed.bytes.toString('latin1', resumed.nameStart, resumed.nameEnd)).toBe('openat');
    expect(resumed.bytes.toString('latin1', resumed.partStart, resumed.partEnd)).toBe(') = 3</w/a>');
    for (const line of ['', ' 5  read(3) = 0', '5  +++ exited with 0 +++', '5  --- SIGCHLD {} ---', '5  read(3) =', '5  read("a) = 0',
      '5  <... read resumed', '5  read(3 <detached ...>', '12345678901  read(3) = 0', '5read(3) = 0']) {
      expect(scan(line)[1]).toBe(DECLINE);
    }
  });

  it('knows where the string an argument starts with ends, and which arguments start otherwise', () => {
    const [call, kind] = scan('1  f("a\\"b", NULL, ["c"], x"d", "e"..., { "f" }, "g" ) = 0');
    expect(kind).toBe(CALL);
    const line = call.bytes.toString('latin1');
    const ends = Array.from({ length: call.argc }, (_, i) => call.stringEnd(i));
    expect(ends).toEqual([line.indexOf('", NULL'), -1, -1, -1, line.indexOf('"...'), -1, line.indexOf('" )')]);
  });

  it('knows which ranges hold escapes, whichever loop passed over them', () => {
    const [call] = scan('1  f(3</a>\\x41>, "b\\"c", /* \\ */ {x=\\1}) = 3</d\\74>');
    const line = call.bytes.toString('latin1');
    expect(call.hasEscapes(line.indexOf('3<'), line.indexOf(', "b'))).toBe(true);
    expect(call.hasEscapes(0, line.indexOf('3<'))).toBe(false);
    const [plain] = scan('1  f(3</a>, "b") = 3</d>');
    expect(plain.hasEscapes(0, plain.bytes.length)).toBe(false);
  });
});

describe('one record per path, whichever path found it', () => {
  it('gives the fast path the records the text path made, and the other way round', () => {
    // The fast path hashes a path as it checks it is normal (hashIfNormal), or on demand; the
    // text path's record() hashes it again. Were the two hashes different, a path would get two
    // records, and the summaries below two entries for /bin/sh or /bin.
    const s = both([
      '7  execve("/bin/sh", ["sh"], 0x7ffc /* 3 vars */) = 0',
      '7  openat(AT_FDCWD</app>, "/bin/sh", O_RDONLY) = 3</bin/sh>',
      '7  chdir("/bin") = 0',
      '7  getdents64(3</bin>, 0x5 /* 2 entries */, 32768) = 48',
      '7  newfstatat(AT_FDCWD</bin>, "", {st_mode=S_IFDIR|0755, st_size=4096, ...}, AT_EMPTY_PATH) = 0',
      '7  newfstatat(3</bin/sh>, "", {st_mode=S_IFREG|0755, st_size=1, ...}, AT_EMPTY_PATH) = 0',
      '7  rename("/bin/sh", "/bin/sh2") = 0',
    ]);
    expect(s.fast).toBeGreaterThanOrEqual(3);
    expect(s.used.map((u) => [u.path, u.access.join()])).toEqual([
      ['/bin', 'chdir,list,stat'],
      ['/bin/sh', 'exec,read,remove,stat'],
    ]);
  });
});

describe('the line memo', () => {
  it('replays a repeated line for another process: its cwd too, but not a path relative to an unshown cwd', () => {
    const s = both([
      '1  chdir("/a") = 0',
      '2  chdir("/b") = 0',
      '1  openat(AT_FDCWD</x>, "/abs", O_RDONLY) = 3</abs>',
      '2  openat(AT_FDCWD</x>, "/abs", O_RDONLY) = 3</abs>', // remembered: replayed, and 2's cwd becomes /x
      '2  access("rel", F_OK) = 0',
      '1  access("rel", F_OK) = 0', // the same text, but relative to 1's cwd (/x too)
      '3  chdir("/c") = 0',
      '3  access("rel", F_OK) = 0', // ... and to 3's (/c): not taken from the memo
      '1  newfstatat(AT_FDCWD</y>, "z", 0x7ffc, 0) = -1 ENOENT (No such file or directory)',
      '3  newfstatat(AT_FDCWD</y>, "z", 0x7ffc, 0) = -1 ENOENT (No such file or directory)',
      '3  access("w", F_OK) = 0', // 3's cwd is /y now
    ].flatMap((line, i) => (i < 3 ? [line] : [line, line])));
    expect(s.used.map((u) => u.path)).toEqual(['/a', '/abs', '/b', '/c', '/c/rel', '/x/rel', '/y/w']);
    expect(s.missing.map((m) => m.path)).toEqual(['/y/z']);
    expect(s.lines.parsed).toBe(19);
  });
});

describe('effect marks', () => {
  it('skips only effects a path has had: another syscall, errno, outcome or flag is recorded', () => {
    const s = both([
      '1  chdir("/") = 0',
      '1  openat(AT_FDCWD</>, "/f", O_RDONLY) = 3</f>',
      '1  openat(AT_FDCWD</>, "/f", O_RDONLY|O_CLOEXEC) = 4</f>', // same effect: skipped
      '1  openat(AT_FDCWD</>, "/f", O_RDWR|O_CREAT, 0644) = 5</f>',
      '1  openat(AT_FDCWD</>, "/f", O_RDONLY) = 6</g>', // a symlink: recorded whatever the marks say
      '1  newfstatat(AT_FDCWD</>, "/m", 0x7ffc, 0) = -1 ENOENT (No such file or directory)',
      '1  newfstatat(AT_FDCWD</>, "/m", 0x7ffc, 0) = -1 ENOTDIR (Not a directory)',
      '1  access("/m", W_OK) = -1 EACCES (Permission denied)',
      '1  access("/m", F_OK) = ?',
    ]);
    expect(s.used.map((u) => [u.path, u.access, u.syscalls, u.errnos ?? [], u.realPaths ?? []])).toEqual([
      ['/', ['chdir'], ['chdir'], [], []],
      ['/f', ['read', 'write'], ['openat'], [], ['/g']],
      ['/g', ['read'], ['openat'], [], []],
      ['/m', ['stat'], ['access'], ['EACCES'], []],
    ]);
    expect(s.missing).toEqual([{ path: '/m', syscalls: ['newfstatat'], errnos: ['ENOENT', 'ENOTDIR'] }]);
    expect(s.created.map((c) => c.path)).toEqual(['/f']);
  });
});

describe('LineMemo', () => {
  const line = (text: string): [Buffer, number, number] => {
    const b = Buffer.from(`  ${text}  `, 'latin1');
    return [b, 2, b.length - 2];
  };

  it('finds a remembered line by its bytes alone, with its cwd', () => {
    const memo = new LineMemo();
    expect(memo.find(...line('access("/a", F_OK) = 0'))).toBe(-1);
    memo.remember(...line('access("/a", F_OK) = 0'), '/w');
    const slot = memo.find(...line('access("/a", F_OK) = 0'));
    expect(slot).toBeGreaterThanOrEqual(0);
    expect(memo.cwd(slot)).toBe('/w');
    expect(memo.find(...line('access("/b", F_OK) = 0'))).toBe(-1);
    expect(memo.find(...line('access("/a", F_OK) = 00'))).toBe(-1);
  });

  it('remembers only what find() just looked up, and no line longer than it keeps', () => {
    const memo = new LineMemo();
    memo.remember(...line('read(3, "", 1) = 0'), undefined); // never looked up
    expect(memo.find(...line('read(3, "", 1) = 0'))).toBe(-1);
    const long = `read(3, "${'x'.repeat(300)}", 300) = 300`;
    expect(memo.find(...line(long))).toBe(-1);
    memo.remember(...line(long), undefined);
    expect(memo.find(...line(long))).toBe(-1);
  });

  it('rests after a round of misses, then looks again', () => {
    const memo = new LineMemo();
    memo.find(...line('access("/kept", F_OK) = 0'));
    memo.remember(...line('access("/kept", F_OK) = 0'), undefined);
    for (let i = 1; i < 4096; i++) memo.find(...line(`access("/once/${i}", F_OK) = 0`));
    expect(memo.find(...line('access("/kept", F_OK) = 0'))).toBe(-1); // resting
    for (let i = 0; i < 1 << 16; i++) memo.find(...line('x() = 0'));
    expect(memo.find(...line('access("/kept", F_OK) = 0'))).toBeGreaterThanOrEqual(0);
  });
});
