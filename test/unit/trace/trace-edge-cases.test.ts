import { describe, expect, it } from 'vitest';
import { TraceParser } from '../../../src/trace/trace-parser.js';
import type { TraceSummary } from '../../../src/trace/trace-summary.js';

// Lines the in-place scanner handles on paths of their own (positions instead of substrings,
// escapes decoded only when a line has a backslash, one record per path). The expected
// summaries are those of the parser before that rewrite.

function parse(lines: string[]): TraceSummary {
  const parser = new TraceParser({ initialCwd: '/app' });
  for (const line of lines) parser.feed(line);
  return parser.summary();
}

const paths = (list: { path: string }[]): string[] => list.map((entry) => entry.path);

describe('trace edge cases', () => {
  it('pairs unfinished and resumed halves per pid, and counts the halves that do not pair', () => {
    const s = parse([
      '10  openat(AT_FDCWD</w>, "a", O_RDONLY <unfinished ...>',
      '11  newfstatat(AT_FDCWD</v>, "b",  <unfinished ...>',
      '10  <... openat resumed>) = 3</w/a>',
      '11  <... newfstatat resumed>{st_mode=S_IFREG|0644, ...}, 0) = -1 ENOENT (No such file or directory)',
      '10  <... newfstatat resumed>{st_mode=S_IFREG|0644, ...}, 0) = 0', // nothing pending for pid 10
      '10  openat(AT_FDCWD</w>, "c", O_RDONLY <unfinished ...>',
      '10  <... openat resumed>, "extra"  = 3', // no closing parenthesis once joined
    ]);
    expect(s.used).toEqual([{ path: '/w/a', access: ['read'], syscalls: ['openat'] }]);
    expect(s.missing).toEqual([{ path: '/v/b', syscalls: ['newfstatat'], errnos: ['ENOENT'] }]);
    expect(s.lines).toEqual({ total: 7, parsed: 6, skipped: 0, malformed: 1, unmatchedResumed: 1, unfinishedAtEnd: 0 });
  });

  it('decodes escapes in quoted paths and in -y annotations', () => {
    const s = parse([
      '1  openat(AT_FDCWD</w>, "sp ace/\\"q\\"/back\\\\slash/tab\\tx/hex\\x41/caf\\303\\251", O_RDONLY) = 3</w/sp ace/"q"/back\\\\slash/tab\\tx/hexA/caf\\303\\251>',
      '1  access("/w/bad\\377", F_OK) = 0',
      '1  newfstatat(3</w/a\\76b\\74c>, "", {st_mode=S_IFREG|0644, ...}, AT_EMPTY_PATH) = 0',
    ]);
    expect(s.used).toEqual([
      { path: '/w/a>b<c', access: ['stat'], syscalls: ['newfstatat'] },
      { path: '/w/bad\u00ff', access: ['stat'], syscalls: ['access'] },
      { path: '/w/sp ace/"q"/back\\slash/tab\tx/hexA/café', access: ['read'], syscalls: ['openat'] },
    ]);
  });

  it('resolves paths against dirfds, and skips them when the dirfd has no usable path', () => {
    const s = parse([
      '1  openat(3</usr/lib>, "python3/../x/./y.py", O_RDONLY) = 4</usr/lib/x/y.py>',
      '1  newfstatat(5</srv>, "rel", 0x7ffc, AT_SYMLINK_NOFOLLOW) = -1 ENOENT (No such file or directory)',
      '1  openat(7<pipe:[12]>, "rel", O_RDONLY) = -1 ENOTDIR (Not a directory)',
      '1  openat(7<pipe:[12]>, "/abs", O_RDONLY) = 3</abs>',
      '1  mkdirat(8</gone (deleted)>, "d", 0777) = 0',
      '1  unlinkat(9, "f", 0) = 0',
    ]);
    expect(s.used).toEqual([
      { path: '/abs', access: ['read'], syscalls: ['openat'] },
      { path: '/usr/lib/x/y.py', access: ['read'], syscalls: ['openat'], raw: ['/usr/lib/python3/../x/./y.py'] },
    ]);
    expect(paths(s.missing)).toEqual(['/srv/rel']);
    expect(s.created).toEqual([]);
  });

  it('takes the path of -y decoded fds for fd calls and AT_EMPTY_PATH, not for sockets or without the flag', () => {
    const s = parse([
      '1  getdents64(3</etc/passwd>, 0x55 /* 1 entries */, 32768) = 24',
      '1  fchdir(4</tmp/st>) = 0',
      '1  mkdir("made", 0777) = 0',
      '1  getdents64(5<socket:[9]>, 0x55, 32768) = 0',
      '1  newfstatat(6</etc/hosts>, "", {st_mode=S_IFREG|0644, ...}, AT_EMPTY_PATH) = 0',
      '1  newfstatat(6</etc/hosts>, "", {st_mode=S_IFREG|0644, ...}, 0) = 0',
    ]);
    expect(s.used).toEqual([
      { path: '/etc/hosts', access: ['stat'], syscalls: ['newfstatat'] },
      { path: '/etc/passwd', access: ['list'], syscalls: ['getdents64'] },
      { path: '/tmp/st', access: ['chdir'], syscalls: ['fchdir'] },
    ]);
    expect(s.listed).toEqual(['/etc/passwd']);
    expect(paths(s.created)).toEqual(['/tmp/st/made']);
  });

  it('records execs with their argv[0], and failed execs as missing or existing', () => {
    const s = parse([
      '1  execve("/bin/sh", ["sh", "-c", "x"], 0x7ffe /* 3 vars */) = 0',
      '1  execve("/usr/local/bin/tool", ["tool"], 0x7ffe /* 3 vars */) = -1 ENOENT (No such file or directory)',
      '1  execve("/usr/bin/tool", ["tool"], 0x7ffe /* 3 vars */) = -1 EACCES (Permission denied)',
      '1  execveat(3</bin>, "busybox", ["ls"], NULL, 0) = 0',
      '1  execve("/bin/sh", ["-sh"], NULL) = 0',
    ]);
    expect(s.executed).toEqual([
      { path: '/bin/busybox', count: 1, argv0: ['ls'] },
      { path: '/bin/sh', count: 2, argv0: ['-sh', 'sh'] },
    ]);
    expect(s.missing).toEqual([{ path: '/usr/local/bin/tool', syscalls: ['execve'], errnos: ['ENOENT'] }]);
    expect(s.used.find((u) => u.path === '/usr/bin/tool')).toEqual({ path: '/usr/bin/tool', access: ['stat'], syscalls: ['execve'], errnos: ['EACCES'] });
  });

  it('records renames in trace order, once each, and not the failed ones', () => {
    const s = parse([
      '1  renameat2(AT_FDCWD</w>, "a.tmp", AT_FDCWD</w>, "a", RENAME_NOREPLACE) = 0',
      '1  renameat(3</d>, "x", 4</e>, "y") = 0',
      '1  rename("gone", "new") = -1 ENOENT (No such file or directory)',
      '1  rename("/w/a.tmp", "/w/a") = 0',
    ]);
    expect(s.renamed).toEqual([{ from: '/w/a.tmp', to: '/w/a' }, { from: '/d/x', to: '/e/y' }]);
    expect(s.created).toEqual([{ path: '/e/y', syscalls: ['renameat'] }, { path: '/w/a', syscalls: ['rename', 'renameat2'] }]);
    expect(s.missing).toEqual([{ path: '/w/gone', syscalls: ['rename'], errnos: ['ENOENT'] }]);
  });

  it('sorts failures into missing (ENOENT, ENOTDIR), existing (EACCES), ignored (EINTR) and unknown (?)', () => {
    const s = parse([
      '1  access("/etc/ld.so.preload", R_OK) = -1 ENOENT (No such file or directory)',
      '1  openat(AT_FDCWD</>, "/etc/ld.so.preload", O_RDONLY) = -1 ENOENT (No such file or directory)',
      '1  stat("/etc/passwd/x", 0x7ffc) = -1 ENOTDIR (Not a directory)',
      '1  openat(AT_FDCWD</>, "/root/s", O_RDONLY) = -1 EACCES (Permission denied)',
      '1  openat(AT_FDCWD</>, "/x", O_RDONLY) = -1 EINTR (Interrupted system call)',
      '1  openat(AT_FDCWD</>, "/y", O_RDONLY) = ?',
    ]);
    expect(s.missing).toEqual([
      { path: '/etc/ld.so.preload', syscalls: ['access', 'openat'], errnos: ['ENOENT'] },
      { path: '/etc/passwd/x', syscalls: ['stat'], errnos: ['ENOTDIR'] },
    ]);
    expect(s.used).toEqual([
      { path: '/root/s', access: ['stat'], syscalls: ['openat'], errnos: ['EACCES'] },
      { path: '/y', access: ['stat'], syscalls: ['openat'] },
    ]);
  });

  it('keeps records apart whatever order paths come in (the recent-record cache is only a shortcut)', () => {
    const lines: string[] = [];
    const used = new Set<string>();
    const missing = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const path = `/d${i % 23}/f${(i * 7) % 13}`;
      const found = i % 5 !== 0;
      (found ? used : missing).add(path);
      lines.push(`1  access("${path}", F_OK) = ${found ? '0' : '-1 ENOENT (No such file or directory)'}`);
    }
    const s = parse(lines);
    expect(paths(s.used)).toEqual([...used].sort());
    expect(paths(s.missing)).toEqual([...missing].sort());
  });

  it('keeps the cwd of each process apart, pids that share a slot of the recent-process cache included', () => {
    // 5, 1029 and 2053 are equal modulo the cache's 1024 slots: each lookup of one evicts another.
    const lines = ['5  chdir("/a") = 0'];
    for (const [child, dir] of [[1029, '/b'], [2053, '/c']] as const) {
      lines.push(`5  clone(child_stack=NULL, flags=SIGCHLD) = ${child}`, `${child}  chdir("${dir}") = 0`);
    }
    for (let round = 0; round < 3; round++) {
      for (const pid of [5, 1029, 2053, 1029, 5]) lines.push(`${pid}  access("f${round}-${pid}", F_OK) = 0`);
    }
    const s = parse(lines);
    const dirOf = { 5: '/a', 1029: '/b', 2053: '/c' } as const;
    const expected = [0, 1, 2].flatMap((round) => ([5, 1029, 2053] as const).map((pid) => `${dirOf[pid]}/f${round}-${pid}`));
    expect(paths(s.used).filter((p) => p.includes('/f'))).toEqual(expected.sort());
  });
});
