import { unescapeC } from './c-string.js';

/**
 * One line of `strace -f -y -qq -o FILE` output, parsed without regexes (a hand-written
 * scanner: it runs on every line of traces that reach millions of lines). Shapes seen:
 *
 *   3128  openat(AT_FDCWD</tmp>, "/etc/x", O_RDONLY) = 3</etc/x>
 *   3128  vfork( <unfinished ...>
 *   3128  <... vfork resumed>)              = 3129
 *   3128  +++ exited with 0 +++            (absent under -qq, handled when present)
 *   3128  --- SIGCHLD {si_signo=...} ---   (absent under -e signal=none)
 *
 * pids shorter than five digits are padded (`%-5d `), so the separator is one or more spaces.
 * Unrecognised input gives a `malformed` record; this module never throws.
 */

export interface SyscallResult {
  /** The return value as printed: `0`, `-1`, `?`, `0x7f3a...`, `3`. */
  raw: string;
  /** Numeric value of `raw`; undefined for `?` (the call never returned, e.g. exit_group). */
  value: number | undefined;
  /** With -y, the path of a returned fd (`= 3</usr/lib/x.so>`), after symlink resolution. */
  fdPath?: string;
  /** `ENOENT` in `= -1 ENOENT (No such file or directory)`. */
  errno?: string;
}

export interface SyscallLine {
  kind: 'call';
  pid: number;
  syscall: string;
  /** Top-level arguments as printed (quotes, brackets, braces and `<...>` kept intact). */
  args: string[];
  result: SyscallResult;
  /** Built by joining an `<unfinished ...>` line with its `<... resumed>` line. */
  resumed?: true;
}

export interface UnfinishedLine {
  kind: 'unfinished';
  pid: number;
  syscall: string;
  /** The argument text printed before ` <unfinished ...>`. */
  argsText: string;
}

export interface ResumedLine {
  kind: 'resumed';
  pid: number;
  syscall: string;
  /** Everything after `<... name resumed>`: the remaining arguments, `)` and the result. */
  tail: string;
}

export interface ExitLine {
  kind: 'exit';
  pid: number;
  code?: number;
  signal?: string;
  coreDumped?: boolean;
}

export interface SkippedLine {
  kind: 'skip';
  pid?: number;
  reason: 'blank' | 'signal' | 'detached' | 'notice';
}

export interface MalformedLine {
  kind: 'malformed';
  reason: string;
}

export type StraceLine = SyscallLine | UnfinishedLine | ResumedLine | ExitLine | SkippedLine | MalformedLine;

const UNFINISHED = ' <unfinished ...>';
const DETACHED = ' <detached ...>';
const RESUMED_PREFIX = '<... ';
const RESUMED_SUFFIX = ' resumed>';

export function parseStraceLine(line: string): StraceLine {
  let end = line.length;
  if (end > 0 && line.charCodeAt(end - 1) === 0x0d) end--; // tolerate CRLF
  let i = 0;
  while (i < end && line.charCodeAt(i) === 0x20) i++;
  if (i === end) return { kind: 'skip', reason: 'blank' };
  const pidStart = i;
  let pid = 0;
  while (i < end) {
    const c = line.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    pid = pid * 10 + (c - 0x30);
    i++;
  }
  if (i === pidStart || i - pidStart > 10) return malformed('no pid');
  if (i >= end || line.charCodeAt(i) !== 0x20) return malformed('no space after pid');
  while (i < end && line.charCodeAt(i) === 0x20) i++;
  if (i >= end) return malformed('nothing after pid');
  const c0 = line.charCodeAt(i);

  if (c0 === 0x2b /* + */) return parseNotice(pid, line.slice(i, end));
  if (c0 === 0x2d /* - */ && line.startsWith('---', i)) return { kind: 'skip', pid, reason: 'signal' };
  if (c0 === 0x3c /* < */) {
    if (!line.startsWith(RESUMED_PREFIX, i)) return malformed('unexpected <');
    const close = line.indexOf(RESUMED_SUFFIX, i + RESUMED_PREFIX.length);
    if (close < 0) return malformed('bad resumed marker');
    const syscall = line.slice(i + RESUMED_PREFIX.length, close);
    if (!isName(syscall)) return malformed('bad syscall name');
    return { kind: 'resumed', pid, syscall, tail: line.slice(close + RESUMED_SUFFIX.length, end) };
  }

  const nameStart = i;
  while (i < end && isNameChar(line.charCodeAt(i))) i++;
  if (i === nameStart || i >= end || line.charCodeAt(i) !== 0x28 /* ( */) return malformed('no syscall');
  const syscall = line.slice(nameStart, i);
  const body = line.slice(i + 1, end);
  if (body.endsWith(UNFINISHED)) {
    return { kind: 'unfinished', pid, syscall, argsText: body.slice(0, body.length - UNFINISHED.length) };
  }
  if (body.endsWith(DETACHED)) return { kind: 'skip', pid, reason: 'detached' };
  return parseCallBody(pid, syscall, body);
}

/** Join the two halves of an interrupted call into one complete call record. */
export function joinResumed(unfinished: UnfinishedLine, resumed: ResumedLine): SyscallLine | MalformedLine {
  const call = parseCallBody(unfinished.pid, unfinished.syscall, unfinished.argsText + resumed.tail);
  if (call.kind === 'call') call.resumed = true;
  return call;
}

/** Parse `args) = result` (the text after `name(`). */
export function parseCallBody(pid: number, syscall: string, body: string): SyscallLine | MalformedLine {
  const args: string[] = [];
  const close = splitArgs(body, args);
  if (close < 0) return malformed('unterminated arguments');
  const result = parseResult(body, close + 1);
  if (result === undefined) return malformed('no result');
  return { kind: 'call', pid, syscall, args, result };
}

/**
 * Split the top-level arguments of `text` (starting just after the opening parenthesis) into
 * `out`; returns the index of the closing parenthesis or -1 when the text ends first.
 */
export function splitArgs(text: string, out: string[]): number {
  const n = text.length;
  let depth = 0;
  let argStart = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    switch (c) {
      case 0x22: { // "
        i = skipQuoted(text, i + 1);
        if (i < 0) return -1;
        break;
      }
      case 0x3c: { // < opens a -y annotation after an fd number or AT_FDCWD
        const p = i > 0 ? text.charCodeAt(i - 1) : 0;
        if ((p >= 0x30 && p <= 0x39) || p === 0x44 /* D */) {
          i = skipAnnotation(text, i + 1);
          if (i < 0) return -1;
        }
        break;
      }
      case 0x2f: // /* comment */
        if (text.charCodeAt(i + 1) === 0x2a) {
          const e = text.indexOf('*/', i + 2);
          if (e < 0) return -1;
          i = e + 1;
        }
        break;
      case 0x28: case 0x5b: case 0x7b: // ( [ {
        depth++;
        break;
      case 0x5d: case 0x7d: // ] }
        if (depth > 0) depth--;
        break;
      case 0x29: // )
        if (depth > 0) {
          depth--;
          break;
        }
        pushArg(text, argStart, i, out);
        return i;
      case 0x2c: // ,
        if (depth === 0) {
          pushArg(text, argStart, i, out);
          argStart = i + 1;
        }
        break;
    }
  }
  return -1;
}

function pushArg(text: string, start: number, end: number, out: string[]): void {
  while (start < end && text.charCodeAt(start) === 0x20) start++;
  while (end > start && text.charCodeAt(end - 1) === 0x20) end--;
  if (end > start || out.length > 0) out.push(text.slice(start, end));
}

/** Index of the closing quote of a string whose content starts at `i`, or -1. */
function skipQuoted(text: string, i: number): number {
  // strace escapes every `"` inside a string, so the first quote not preceded by an odd
  // number of backslashes ends it; indexOf jumps over the (long) string bodies quickly.
  for (;;) {
    const q = text.indexOf('"', i);
    if (q < 0) return -1;
    let b = q - 1;
    while (b >= i && text.charCodeAt(b) === 0x5c) b--;
    if ((q - 1 - b) % 2 === 0) return q;
    i = q + 1;
  }
}

/** Index of the `>` closing a -y annotation whose content starts at `i`, or -1. */
function skipAnnotation(text: string, i: number): number {
  // strace prints a `>` inside a -y path as `\76`, so the first `>` is the closing one.
  return text.indexOf('>', i);
}

function parseResult(text: string, i: number): SyscallResult | undefined {
  const n = text.length;
  while (i < n && text.charCodeAt(i) === 0x20) i++;
  if (i >= n || text.charCodeAt(i) !== 0x3d /* = */) return undefined;
  i++;
  while (i < n && text.charCodeAt(i) === 0x20) i++;
  const start = i;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x3c) break;
    i++;
  }
  if (i === start) return undefined;
  const raw = text.slice(start, i);
  const result: SyscallResult = { raw, value: numericValue(raw) };
  if (i < n && text.charCodeAt(i) === 0x3c) {
    const close = skipAnnotation(text, i + 1);
    if (close < 0) return undefined;
    result.fdPath = unescapeC(text, i + 1, close);
    i = close + 1;
  }
  if (result.value !== undefined && result.value < 0) {
    while (i < n && text.charCodeAt(i) === 0x20) i++;
    const e = i;
    while (i < n && isErrnoChar(text.charCodeAt(i))) i++;
    if (i > e) result.errno = text.slice(e, i);
  }
  return result;
}

function numericValue(raw: string): number | undefined {
  const c = raw.charCodeAt(0);
  if (c === 0x30 && raw.length > 2 && (raw.charCodeAt(1) | 0x20) === 0x78) {
    const v = Number.parseInt(raw.slice(2), 16);
    return Number.isNaN(v) ? undefined : v;
  }
  if (!((c >= 0x30 && c <= 0x39) || c === 0x2d)) return undefined;
  const v = Number(raw);
  return Number.isNaN(v) ? undefined : v;
}

export interface FdArg {
  /** The descriptor number, or `AT_FDCWD` for the current directory. */
  fd: number | 'AT_FDCWD';
  /** The -y annotation, decoded: the fd's path (or `pipe:[123]`, `socket:[4]` ...). */
  path?: string;
}

/** Decode `3</usr/lib>`, `AT_FDCWD</tmp>`, `AT_FDCWD` or `3`; undefined for anything else. */
export function decodeFdArg(arg: string): FdArg | undefined {
  const lt = arg.indexOf('<');
  const head = lt < 0 ? arg : arg.slice(0, lt);
  let fd: number | 'AT_FDCWD';
  if (head === 'AT_FDCWD') fd = 'AT_FDCWD';
  else {
    fd = Number(head);
    if (head.length === 0 || !Number.isInteger(fd)) return undefined;
  }
  if (lt < 0) return { fd };
  if (arg.charCodeAt(arg.length - 1) !== 0x3e) return undefined;
  return { fd, path: unescapeC(arg, lt + 1, arg.length - 1) };
}

function parseNotice(pid: number, text: string): ExitLine | SkippedLine | MalformedLine {
  if (!text.startsWith('+++ ') || !text.endsWith(' +++')) return malformed('bad +++ line');
  const body = text.slice(4, text.length - 4);
  if (body.startsWith('exited with ')) {
    const code = Number(body.slice('exited with '.length));
    return Number.isInteger(code) ? { kind: 'exit', pid, code } : malformed('bad exit status');
  }
  if (body.startsWith('killed by ')) {
    let signal = body.slice('killed by '.length);
    const coreDumped = signal.endsWith(' (core dumped)');
    if (coreDumped) signal = signal.slice(0, signal.length - ' (core dumped)'.length);
    return coreDumped ? { kind: 'exit', pid, signal, coreDumped } : { kind: 'exit', pid, signal };
  }
  return { kind: 'skip', pid, reason: 'notice' };
}

function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || (c >= 0x41 && c <= 0x5a) || c === 0x3f;
}

function isName(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isNameChar(s.charCodeAt(i))) return false;
  return true;
}

function isErrnoChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

function malformed(reason: string): MalformedLine {
  return { kind: 'malformed', reason };
}
