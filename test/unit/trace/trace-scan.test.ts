import { describe, expect, it } from 'vitest';
import { LINE_CALL, LINE_MALFORMED, LINE_RESUMED, LINE_UNFINISHED, LineScan, NO_FD_PATH, ScannedCall } from '../../../src/trace/strace-line.js';
import { SYSCALLS } from '../../../src/trace/trace-state.js';
import { SummaryBuilder, own } from '../../../src/trace/trace-summary.js';
import { endsWithAt, equalsAt, indexBefore, matchesAt, skipQuoted } from '../../../src/trace/text-scan.js';

/** Scan the text after `name(` of a call line. */
function scanCall(body: string): ScannedCall {
  const call = new ScannedCall();
  expect(call.scan(body, 0, body.length)).toBeUndefined();
  return call;
}

const args = (call: ScannedCall): string[] => Array.from({ length: call.argc }, (_, i) => call.arg(i)!);

describe('ScannedCall', () => {
  it('records argument positions around strings, annotations, comments and groups', () => {
    const call = scanCall('3</a,b)c>, "x\\",y", {st_mode=S_IFREG|0644, st_size=1, ...}, [{a=(1), b="}"}], 0x7f /* 2, ) */) = 0');
    expect(args(call)).toEqual(['3</a,b)c>', '"x\\",y"', '{st_mode=S_IFREG|0644, st_size=1, ...}', '[{a=(1), b="}"}]', '0x7f /* 2, ) */']);
    expect(call.value).toBe(0);
  });

  it('treats any closer as closing any opener, as strace never mixes them', () => {
    // `]` closes the `{`, so the comma after it is top-level.
    expect(args(scanCall('{a]b, c}, d) = 0'))).toEqual(['{a]b', 'c}', 'd']);
  });

  it('finds the result, the -y path of a returned fd and the errno', () => {
    const call = scanCall('AT_FDCWD</w>, "a", O_RDONLY) = 3</w/a\\76b>');
    expect([call.value, call.errno, call.fdPath()]).toEqual([3, undefined, '/w/a>b']);
    expect(call.fdPathIs('/w/a>b')).toBe(false); // escaped in the line: compared only once decoded
    const failed = scanCall('"/x") = -1 ENOENT (No such file or directory)');
    expect([failed.value, failed.errno, failed.fdPath()]).toEqual([-1, 'ENOENT', undefined]);
    expect(scanCall('0) = ?').value).toBeUndefined();
    expect(scanCall('0) = 0x10').value).toBe(16);
  });

  it('reports unterminated arguments and missing results', () => {
    const call = new ScannedCall();
    for (const [body, reason] of [['"a', 'unterminated arguments'], ['3<x, 1) = 0', 'unterminated arguments'], ['/* x) = 0', 'unterminated arguments'], ['1)', 'no result'], ['1) =', 'no result'], ['1) = 3<x', 'no result']]) {
      expect(call.scan(body!, 0, body!.length), body).toBe(reason);
    }
  });

  it('decodes -y fd arguments like decodeFdArg', () => {
    const call = scanCall('3</etc/passwd>, AT_FDCWD</tmp>, 4, 0x3</x>, 1e1</y>, </z>, 5</a>b, 6</a\\"b\\303\\251>) = 0');
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => call.fdArgPath(i))).toEqual(
      ['/etc/passwd', '/tmp', NO_FD_PATH, '/x', '/y', undefined, undefined, '/a"bé'],
    );
  });

  it('decodes strings only when the line has escapes', () => {
    const plain = scanCall('"/etc/hosts") = 0');
    expect(plain.decoded(1, 11)).toBe('/etc/hosts');
    const escaped = scanCall('"/tmp/caf\\303\\251") = 0');
    expect(escaped.decoded(1, escaped.argEnd(0) - 1)).toBe('/tmp/café');
  });

  it('looks for flags anywhere in the arguments, not in the result', () => {
    const call = scanCall('3</x>, "", {st_mode=S_IFREG}, AT_EMPTY_PATH) = 0');
    expect(call.argsInclude('AT_EMPTY_PATH')).toBe(true);
    expect(scanCall('3</x>, "") = 0 AT_EMPTY_PATH').argsInclude('AT_EMPTY_PATH')).toBe(false);
  });
});

describe('LineScan with the syscall table', () => {
  it('gives known syscalls the table entry and its name', () => {
    const scan = new LineScan(SYSCALLS);
    expect(scan.scan('12  openat(AT_FDCWD</>, "/x", O_RDONLY) = 3')).toBe(LINE_CALL);
    expect(scan.info?.name).toBe('openat');
    expect(scan.info?.effect).toBeDefined();
    expect(scan.scan('12  vfork( <unfinished ...>')).toBe(LINE_UNFINISHED);
    expect(scan.info?.forkLike).toBe(true);
    expect(scan.scan('12  <... wait4 resumed>, 0, NULL) = 13')).toBe(LINE_RESUMED);
    expect([scan.info, scan.syscall, scan.part()]).toEqual([undefined, 'wait4', ', 0, NULL) = 13']);
  });

  it('ignores a trailing carriage return and only what lies before `end`', () => {
    const scan = new LineScan(SYSCALLS);
    const line = '1  chdir("/a") = 0\r\n';
    expect(scan.scan(line, line.length - 1)).toBe(LINE_CALL);
    expect(scan.call.arg(0)).toBe('"/a"');
    expect(scan.scan('1  <... x resumed>) = 0', 10)).toBe(LINE_MALFORMED);
  });
});

describe('text-scan helpers', () => {
  it('skipQuoted finds the first quote not escaped by an odd number of backslashes', () => {
    const text = '"a\\"b\\\\", x';
    expect(skipQuoted(text, 1, text.length)).toBe(7);
    expect(skipQuoted('"a\\"', 1, 4)).toBe(-1);
    expect(skipQuoted('"abc"', 1, 4)).toBe(-1); // the quote is at the end bound
  });

  it('compares in place without reading past the bounds', () => {
    expect(matchesAt('AT_FDCWD</>', 0, 'AT_FDCWD')).toBe(true);
    expect(matchesAt('AT_FD', 0, 'AT_FDCWD')).toBe(false);
    expect(endsWithAt('x( <unfinished ...>', ' <unfinished ...>', 2, 19)).toBe(true);
    expect(endsWithAt('x(<unfinished ...>', ' <unfinished ...>', 2, 18)).toBe(false);
    expect(equalsAt('ab/etc/x', 2, 8, '/etc/x')).toBe(true);
    expect(equalsAt('ab/etc/xy', 2, 8, '/etc/xy')).toBe(false);
    expect(indexBefore('a>b>', '>', 0, 1)).toBe(-1);
    expect(indexBefore('a>b>', '>', 0, 2)).toBe(1);
  });
});

describe('own', () => {
  it('own() copies strings whatever their chars', () => {
    for (const s of ['', 'x', '/short/path', '/a/much/longer/path/than/thirteen', '/tmp/café/日本/file']) expect(own(s)).toBe(s);
  });
});
