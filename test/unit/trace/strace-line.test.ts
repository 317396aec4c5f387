import { describe, expect, it } from 'vitest';
import { decodeFdArg, joinResumed, parseStraceLine, type ResumedLine, type UnfinishedLine } from '../../../src/trace/strace-line.js';

describe('parseStraceLine', () => {
  it('parses a complete call with a -y fd result', () => {
    const line = parseStraceLine(
      '3128  openat(AT_FDCWD</tmp/st>, "/lib/x86_64-linux-gnu/libc.so.6", O_RDONLY|O_CLOEXEC) = 3</usr/lib/x86_64-linux-gnu/libc.so.6>',
    );
    expect(line).toEqual({
      kind: 'call',
      pid: 3128,
      syscall: 'openat',
      args: ['AT_FDCWD</tmp/st>', '"/lib/x86_64-linux-gnu/libc.so.6"', 'O_RDONLY|O_CLOEXEC'],
      result: { raw: '3', value: 3, fdPath: '/usr/lib/x86_64-linux-gnu/libc.so.6' },
    });
  });

  it('reads the errno of a failed call', () => {
    const line = parseStraceLine('3128  access("/etc/ld.so.preload", R_OK) = -1 ENOENT (No such file or directory)');
    expect(line).toMatchObject({ kind: 'call', result: { value: -1, errno: 'ENOENT' } });
  });

  it('accepts the padded result column and five-digit pids with a single space', () => {
    expect(parseStraceLine('3128  chdir("/usr")                     = 0')).toMatchObject({ kind: 'call', args: ['"/usr"'], result: { value: 0 } });
    expect(parseStraceLine('11666 chdir("/usr/bin")                 = 0')).toMatchObject({ kind: 'call', pid: 11666 });
  });

  it('keeps quotes, brackets, braces and comments inside one argument', () => {
    const line = parseStraceLine(
      '3128  execve("/usr/bin/sh", ["sh", "-c", "cd /usr; ls lib >/dev/null; cat "...], 0x7ffe4af12fd0 /* 35 vars */) = 0',
    );
    expect(line).toMatchObject({
      kind: 'call',
      args: ['"/usr/bin/sh"', '["sh", "-c", "cd /usr; ls lib >/dev/null; cat "...]', '0x7ffe4af12fd0 /* 35 vars */'],
    });
  });

  it('splits clone3 arguments around the => of the returned struct', () => {
    const line = parseStraceLine(
      '4624  clone3({flags=CLONE_VM|CLONE_FS|CLONE_THREAD, child_tid=0x7f26e0fa3990, exit_signal=0} => {parent_tid=[4625]}, 88) = 4625',
    );
    expect(line).toMatchObject({ kind: 'call', args: ['{flags=CLONE_VM|CLONE_FS|CLONE_THREAD, child_tid=0x7f26e0fa3990, exit_signal=0} => {parent_tid=[4625]}', '88'], result: { value: 4625 } });
  });

  it('does not split on commas, parentheses or quotes inside -y paths', () => {
    const line = parseStraceLine('1  newfstatat(3</a,b)c\\"d>, "", {st_mode=S_IFDIR|0755}, AT_EMPTY_PATH) = 0');
    expect(line).toMatchObject({ kind: 'call', args: ['3</a,b)c\\"d>', '""', '{st_mode=S_IFDIR|0755}', 'AT_EMPTY_PATH'] });
  });

  it('recognises unfinished and resumed halves', () => {
    expect(parseStraceLine('3128  vfork( <unfinished ...>')).toEqual({ kind: 'unfinished', pid: 3128, syscall: 'vfork', argsText: '' });
    expect(parseStraceLine('3128  <... vfork resumed>)              = 3129')).toEqual({
      kind: 'resumed', pid: 3128, syscall: 'vfork', tail: ')              = 3129',
    });
  });

  it('joins an unfinished call with its resumed line into one call', () => {
    const a = parseStraceLine('4627  newfstatat(5</etc/apt>, "",  <unfinished ...>') as UnfinishedLine;
    const b = parseStraceLine('4627  <... newfstatat resumed>{st_mode=S_IFDIR|0755, st_size=4096, ...}, AT_EMPTY_PATH) = 0') as ResumedLine;
    expect(joinResumed(a, b)).toEqual({
      kind: 'call', pid: 4627, syscall: 'newfstatat', resumed: true,
      args: ['5</etc/apt>', '""', '{st_mode=S_IFDIR|0755, st_size=4096, ...}', 'AT_EMPTY_PATH'],
      result: { raw: '0', value: 0 },
    });
  });

  it('reads exit notices and skips signals and blank lines', () => {
    expect(parseStraceLine('3128  +++ exited with 3 +++')).toEqual({ kind: 'exit', pid: 3128, code: 3 });
    expect(parseStraceLine('3128  +++ killed by SIGSEGV (core dumped) +++')).toEqual({ kind: 'exit', pid: 3128, signal: 'SIGSEGV', coreDumped: true });
    expect(parseStraceLine('3128  --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---')).toMatchObject({ kind: 'skip', reason: 'signal' });
    expect(parseStraceLine('')).toMatchObject({ kind: 'skip', reason: 'blank' });
  });

  it('reports truncated and garbage lines as malformed instead of throwing', () => {
    for (const text of [
      '3128  openat(AT_FDCWD</tmp>, "/etc/pas',
      '3128  openat(AT_FDCWD</tmp>, "/etc/passwd", O_RDONLY)',
      '3128  openat(AT_FDCWD</tmp>, "/etc/passwd", O_RDONLY) =',
      'strace: Process 12 attached',
      '3128',
      '3128  <... openat',
      '\u0000\u00ff((((',
    ]) {
      expect(parseStraceLine(text).kind, text).toBe('malformed');
    }
  });

  it('treats the result ? (no return) as an unknown value', () => {
    expect(parseStraceLine('3129  exit_group(0)                     = ?')).toMatchObject({ kind: 'call', result: { raw: '?', value: undefined } });
  });
});

describe('decodeFdArg', () => {
  it('decodes AT_FDCWD and numbered fds with and without -y paths', () => {
    expect(decodeFdArg('AT_FDCWD</usr>')).toEqual({ fd: 'AT_FDCWD', path: '/usr' });
    expect(decodeFdArg('AT_FDCWD')).toEqual({ fd: 'AT_FDCWD' });
    expect(decodeFdArg('3</usr/lib>')).toEqual({ fd: 3, path: '/usr/lib' });
    expect(decodeFdArg('0x55f7be1992a0 /* 69 entries */')).toBeUndefined();
  });

  it('decodes escapes in -y paths, where strace escapes < and > as octal', () => {
    expect(decodeFdArg('3</tmp/st/odd\\"dir/x\\74y\\76z>')).toEqual({ fd: 3, path: '/tmp/st/odd"dir/x<y>z' });
  });
});
