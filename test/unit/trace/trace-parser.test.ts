import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TraceParseError } from '../../../src/trace/trace-parse-error.js';
import { parseTrace, TraceParser, type TraceParserOptions } from '../../../src/trace/trace-parser.js';
import type { TraceSummary } from '../../../src/trace/trace-summary.js';

function parse(lines: string[], options?: TraceParserOptions): TraceSummary {
  const parser = new TraceParser(options);
  for (const line of lines) parser.feed(line);
  return parser.summary();
}

const paths = (list: { path: string }[]): string[] => list.map((entry) => entry.path);
const use = (summary: TraceSummary, path: string) => summary.used.find((u) => u.path === path);

describe('TraceParser', () => {
  it('resolves a relative openat against the dirfd path', () => {
    const s = parse(['10  openat(3</usr/lib>, "os-release", O_RDONLY) = 4</usr/lib/os-release>']);
    expect(use(s, '/usr/lib/os-release')).toMatchObject({ access: ['read'], syscalls: ['openat'] });
  });

  it('resolves a relative path against the cwd shown by AT_FDCWD', () => {
    const s = parse(['10  newfstatat(AT_FDCWD</srv/app>, "config.yml", {st_mode=S_IFREG|0644, ...}, 0) = 0']);
    expect(paths(s.used)).toEqual(['/srv/app/config.yml']);
  });

  it('resolves plain (non-at) syscalls against the cwd, starting from the initial cwd', () => {
    const s = parse(['10  mkdir("cache", 0777) = 0', '10  chdir("sub") = 0', '10  access("x", R_OK) = 0'], { initialCwd: '/app' });
    expect(paths(s.created)).toEqual(['/app/cache']);
    expect(paths(s.used)).toEqual(['/app/sub', '/app/sub/x']);
  });

  it('follows fchdir to the fd path', () => {
    const s = parse(['10  fchdir(3</tmp/work/d>) = 0', '10  mkdir("e", 0777) = 0']);
    expect(paths(s.created)).toEqual(['/tmp/work/d/e']);
  });

  it('ignores a chdir that failed', () => {
    const s = parse(['10  chdir("/nope") = -1 ENOENT (No such file or directory)', '10  unlink("f") = 0'], { initialCwd: '/data' });
    expect(paths(s.missing)).toEqual(['/nope']);
    expect(use(s, '/data/f')?.access).toEqual(['remove']);
  });

  it('records both the requested path and the real path of the returned fd', () => {
    const s = parse(['10  openat(AT_FDCWD</>, "/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY|O_CLOEXEC) = 3</usr/lib/x86_64-linux-gnu/libc.so.6>']);
    expect(paths(s.used)).toEqual(['/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/x86_64-linux-gnu/libc.so.6']);
    expect(use(s, '/lib/x86_64-linux-gnu/libc.so.6')?.realPaths).toEqual(['/usr/lib/x86_64-linux-gnu/libc.so.6']);
  });

  it('joins an unfinished execve with its resumed line', () => {
    const s = parse([
      '3129  execve("/usr/bin/ls", ["ls", "lib"], 0x55a79f8d5fd8 /* 35 vars */ <unfinished ...>',
      '3128  wait4(-1,  <unfinished ...>',
      '3129  <... execve resumed>)             = 0',
    ]);
    expect(s.executed).toEqual([{ path: '/usr/bin/ls', count: 1, argv0: ['ls'] }]);
    expect(s.lines).toMatchObject({ parsed: 3, unmatchedResumed: 0, unfinishedAtEnd: 1 });
  });

  it('a child inherits its parent\'s cwd even when its first line precedes the parent\'s vfork resume', () => {
    const s = parse([
      '3128  execve("/usr/bin/sh", ["sh"], 0x7ffe /* 35 vars */) = 0',
      '3128  chdir("/usr/bin") = 0',
      '3128  vfork( <unfinished ...>',
      '3129  execve("./true", ["./true"], 0x5572 /* 35 vars */ <unfinished ...>',
      '3128  <... vfork resumed>)              = 3129',
      '3129  <... execve resumed>)             = 0',
      '3129  mkdir("made-by-child", 0777) = 0',
    ]);
    expect(paths(s.executed)).toEqual(['/usr/bin/sh', '/usr/bin/true']);
    expect(paths(s.created)).toEqual(['/usr/bin/made-by-child']);
    expect(s.pids).toBe(2);
  });

  it('gives a forked child its own copy of the cwd', () => {
    const s = parse([
      '1  clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f) = 2',
      '2  chdir("/var") = 0',
      '1  access("here", F_OK) = 0',
    ], { initialCwd: '/home' });
    expect(paths(s.used)).toEqual(['/home/here', '/var']);
  });

  it('shares the cwd between threads created with CLONE_FS', () => {
    const s = parse([
      '1  clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD, exit_signal=0} => {parent_tid=[2]}, 88) = 2',
      '2  chdir("/var") = 0',
      '1  access("here", F_OK) = 0',
    ], { initialCwd: '/home' });
    expect(paths(s.used)).toEqual(['/var', '/var/here']);
  });

  it('falls back to the forking process\'s cwd when the parent\'s resume never comes', () => {
    const s = parse([
      '1  chdir("/opt") = 0',
      '1  fork( <unfinished ...>',
      '2  access("x", F_OK) = 0',
    ]);
    expect(paths(s.used)).toContain('/opt/x');
  });

  it('records ENOENT lookups as missing', () => {
    const s = parse([
      '4620  execve("/nope/cmd", ["cmd"], 0x7ffd /* 35 vars */) = -1 ENOENT (No such file or directory)',
      '4620  openat(AT_FDCWD</>, "/etc/passwd/x", O_RDONLY) = -1 ENOTDIR (Not a directory)',
    ]);
    expect(s.missing).toEqual([
      { path: '/etc/passwd/x', syscalls: ['openat'], errnos: ['ENOTDIR'] },
      { path: '/nope/cmd', syscalls: ['execve'], errnos: ['ENOENT'] },
    ]);
    expect(s.executed).toEqual([]);
  });

  it('counts failures like EACCES and EEXIST as proof that the path exists', () => {
    const s = parse([
      '1  openat(AT_FDCWD</>, "/root/secret", O_RDONLY) = -1 EACCES (Permission denied)',
      '1  mkdir("/tmp", 0777) = -1 EEXIST (File exists)',
      '1  openat(AT_FDCWD</>, "/x", O_RDONLY) = -1 EMFILE (Too many open files)',
    ]);
    expect(s.used).toEqual([
      { path: '/root/secret', access: ['stat'], syscalls: ['openat'], errnos: ['EACCES'] },
      { path: '/tmp', access: ['stat'], syscalls: ['mkdir'], errnos: ['EEXIST'] },
    ]);
    expect(s.created).toEqual([]);
  });

  it('records creations, renames and removals', () => {
    const s = parse([
      '1  openat(AT_FDCWD</w>, "log.txt", O_WRONLY|O_CREAT|O_APPEND, 0644) = 3</w/log.txt>',
      '1  symlinkat("d/e/f.txt", AT_FDCWD</w>, "link") = 0',
      '1  linkat(AT_FDCWD</w>, "d/g.txt", AT_FDCWD</w>, "hard", 0) = 0',
      '1  renameat2(AT_FDCWD</w>, "a.tmp", AT_FDCWD</w>, "a", RENAME_NOREPLACE) = 0',
      '1  unlinkat(AT_FDCWD</w>, "old", 0) = 0',
      '1  mknodat(AT_FDCWD</w>, "fifo", S_IFIFO|0666) = 0',
    ]);
    expect(paths(s.created)).toEqual(['/w/a', '/w/fifo', '/w/hard', '/w/link', '/w/log.txt']);
    expect(s.renamed).toEqual([{ from: '/w/a.tmp', to: '/w/a' }]);
    expect(use(s, '/w/a.tmp')?.access).toEqual(['remove']);
    expect(use(s, '/w/old')?.access).toEqual(['remove']);
    expect(use(s, '/w/d/g.txt')?.access).toEqual(['stat']);
    expect(use(s, '/w/log.txt')?.access).toEqual(['write']);
  });

  it('records directories read with getdents as listed', () => {
    const s = parse(['3129  getdents64(3</usr/lib>, 0x55f7be1992a0 /* 69 entries */, 32768) = 2160']);
    expect(s.listed).toEqual(['/usr/lib']);
  });

  it('puts /proc, /sys and /dev paths into the pseudo bucket', () => {
    const s = parse([
      '1  openat(AT_FDCWD</>, "/proc/self/status", O_RDONLY) = 3</proc/1/status>',
      '1  statfs("/sys/fs/selinux", 0x7ffc) = -1 ENOENT (No such file or directory)',
      '1  openat(AT_FDCWD</>, "/dev/null", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</dev/null>',
      '1  getdents64(3</proc/1/fd>, 0x55 /* 5 entries */, 32768) = 120',
    ]);
    expect(s.used).toEqual([]);
    expect(s.missing).toEqual([]);
    expect(s.created).toEqual([]);
    expect(s.listed).toEqual([]);
    expect(paths(s.pseudo.used)).toEqual(['/dev/null', '/proc/1/fd', '/proc/1/status', '/proc/self/status']);
    expect(paths(s.pseudo.missing)).toEqual(['/sys/fs/selinux']);
  });

  it('uses the fd path for AT_EMPTY_PATH and NULL paths, and skips pipes and sockets', () => {
    const s = parse([
      '1  newfstatat(3</etc/hosts>, "", {st_mode=S_IFREG|0644, ...}, AT_EMPTY_PATH) = 0',
      '1  utimensat(0</w/new file>, NULL, NULL, 0) = 0',
      '1  newfstatat(1<pipe:[1234]>, "", {st_mode=S_IFIFO|0600, ...}, AT_EMPTY_PATH) = 0',
    ]);
    expect(paths(s.used)).toEqual(['/etc/hosts', '/w/new file']);
  });

  it('takes the exit status from the main process\'s exit_group', () => {
    const s = parse(['7  exit_group(3) = ?', '8  exit_group(0) = ?']);
    expect(s.exit).toEqual({ code: 3 });
  });

  it('prefers +++ notices over exit_group when the trace has them', () => {
    const s = parse(['7  kill(7, SIGKILL) = ?', '7  +++ killed by SIGKILL +++']);
    expect(s.exit).toEqual({ signal: 'SIGKILL' });
    expect(s.lines).toMatchObject({ total: 2, parsed: 1, skipped: 1 });
  });

  it('keeps each trace file a separate run with its own root and cwd', () => {
    const parser = new TraceParser({ initialCwd: '/app' });
    parser.startFile({ source: 'main' });
    parser.feed('100  access("a", F_OK) = 0');
    parser.feed('100  exit_group(0) = ?');
    parser.startFile({ source: 'probe', initialCwd: '/probe' });
    parser.feed('100  access("b", F_OK) = 0');
    parser.feed('100  exit_group(1) = ?');
    const s = parser.summary();
    expect(paths(s.used)).toEqual(['/app/a', '/probe/b']);
    expect(s.runs).toEqual([
      { source: 'main', rootPid: 100, pids: 1, exit: { code: 0 } },
      { source: 'probe', rootPid: 100, pids: 1, exit: { code: 1 } },
    ]);
    expect(s.exit).toEqual({ code: 0 });
  });

  it('keeps what an unfinished call reached for when its process died in it', () => {
    const s = parse(['1  openat(AT_FDCWD</>, "/etc/slow", O_RDONLY <unfinished ...>']);
    expect(use(s, '/etc/slow')?.access).toEqual(['stat']);
    expect(s.lines.unfinishedAtEnd).toBe(1);
  });

  it('counts a resumed line without its unfinished half', () => {
    const s = parse(['1  <... openat resumed>) = 3</etc/x>']);
    expect(s.lines.unmatchedResumed).toBe(1);
    expect(s.used).toEqual([]);
  });

  it('throws TraceParseError on malformed lines only in strict mode', () => {
    expect(parse(['garbage']).lines.malformed).toBe(1);
    const strict = new TraceParser({ strict: true });
    strict.startFile({ source: 'trace.log' });
    expect(() => strict.feed('garbage')).toThrow(TraceParseError);
    expect(() => strict.feed('garbage')).toThrow(/trace\.log:2/);
  });
});

describe('parseTrace', () => {
  const lines = [
    '3128  chdir("/usr")                     = 0',
    '3128  openat(AT_FDCWD</usr>, "lib", O_RDONLY|O_DIRECTORY) = 3</usr/lib>',
    '3128  exit_group(0)                     = ?',
  ];

  it('handles chunk boundaries anywhere, including inside a line, and a missing final newline', async () => {
    const text = lines.join('\n');
    for (const size of [1, 7, 64]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(Buffer.from(text.slice(i, i + size), 'latin1'));
      const s = await parseTrace(Readable.from(chunks));
      expect(paths(s.used), `chunk size ${size}`).toEqual(['/usr', '/usr/lib']);
      expect(s.lines.total).toBe(3);
      expect(s.exit).toEqual({ code: 0 });
    }
  });

  it('parses several files as separate runs', async () => {
    const s = await parseTrace([
      { input: [lines.join('\n') + '\n'], source: 'a' },
      { input: ['5  access("x", F_OK) = 0\n'], source: 'b', initialCwd: '/b' },
    ]);
    expect(s.runs.map((r) => r.source)).toEqual(['a', 'b']);
    expect(paths(s.used)).toEqual(['/b/x', '/usr', '/usr/lib']);
  });

  it('lets stream errors reject', async () => {
    const failing = new Readable({ read() { this.destroy(new Error('disk gone')); } });
    await expect(parseTrace(failing)).rejects.toThrow('disk gone');
  });
});
