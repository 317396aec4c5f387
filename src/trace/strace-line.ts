import { unescapeC } from './c-string.js';
import { endsWithAt, equalsAt, hasBackslash, indexBefore, matchesAt, skipQuoted } from './text-scan.js';

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
 *
 * Two layers: `LineScan` and `ScannedCall` find where things are in the line (positions only,
 * reused from line to line, so the trace parser's hot path allocates next to nothing and cuts
 * strings only for the arguments a syscall handler asks for); `parseStraceLine` turns a scan
 * into plain objects, for tests and tools.
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

/** What LineScan is told about a syscall by the table it is given. */
export interface SyscallInfo {
  /** The name as the table spells it: one string per syscall, whatever line it came from. */
  readonly name: string;
}

/** `{...}` holding none of the characters that mean something to scanArgs (but commas). */
const FLAT_STRUCT = /\{[^"<\/()[\]{}]*\}/y;

const UNFINISHED = ' <unfinished ...>';
const DETACHED = ' <detached ...>';
const RESUMED_PREFIX = '<... ';
const RESUMED_SUFFIX = ' resumed>';

/**
 * The arguments and result of one complete call, as positions in `text`. Filled by `scan`;
 * one instance is reused for many calls, so nothing here may be kept once the next line comes.
 */
export class ScannedCall implements ArgList {
  text = '';
  /** Where the argument being scanned starts (see ArgList). */
  argFrom = 0;
  /** Number of top-level arguments (a leading empty one, as in `vfork()`, is not counted). */
  argc = 0;
  /** The return value (see SyscallResult.value). */
  value: number | undefined;
  /** Set only when `value` is negative and an errno name follows it. */
  errno: string | undefined;
  /** Start and end (exclusive) of each argument, trimmed of spaces: [s0, e0, s1, e1, ...]. */
  private readonly spans: number[] = [];
  /** Where the text inside the parentheses starts, and the index of the closing one. */
  private argsStart = 0;
  private argsEnd = 0;
  private resultStart = 0;
  private resultEnd = 0;
  /** The -y annotation of the returned fd, text[fdStart, fdEnd); fdStart -1 when absent. */
  private fdStart = -1;
  private fdEnd = -1;
  /** Whether the call's text has a backslash at all: most have none, and then no string needs decoding. */
  private escapes = false;

  /**
   * Scan `args) = result` in text[from, end) (`from` just after `name(`); returns undefined
   * when the text is a complete call, otherwise why it is not.
   */
  scan(text: string, from: number, end: number): string | undefined {
    this.text = text;
    this.argsStart = from;
    this.argc = 0;
    this.escapes = hasBackslash(text, from, end);
    const close = this.scanArgs(text, from, end);
    if (close < 0) return 'unterminated arguments';
    this.argsEnd = close;
    return this.scanResult(text, close + 1, end) ? undefined : 'no result';
  }

  argStart(i: number): number {
    return this.spans[2 * i]!;
  }

  argEnd(i: number): number {
    return this.spans[2 * i + 1]!;
  }

  /** Argument `i` as printed, or undefined past the last one. */
  arg(i: number): string | undefined {
    return i < this.argc ? this.text.slice(this.spans[2 * i], this.spans[2 * i + 1]) : undefined;
  }

  /**
   * Whether `word` occurs in any argument (flags such as AT_EMPTY_PATH). Searched backwards
   * from the closing parenthesis: flags come last, and the search cannot run past the list.
   */
  argsInclude(word: string): boolean {
    return this.argsEnd - word.length >= this.argsStart && this.text.lastIndexOf(word, this.argsEnd - word.length) >= this.argsStart;
  }

  /**
   * Index in `text` of the first `word` at or after `from` within the arguments, or -1. The
   * text between arguments is only spaces and commas, so a word found here lies in one of them.
   */
  argsIndexOf(word: string, from: number): number {
    const at = this.text.indexOf(word, Math.max(from, this.argsStart));
    return at >= 0 && at + word.length <= this.argsEnd ? at : -1;
  }

  /** The -y path of the returned fd, decoded (`= 3</usr/lib/x.so>`), if printed. */
  fdPath(): string | undefined {
    return this.fdStart < 0 ? undefined : this.decoded(this.fdStart, this.fdEnd);
  }

  /** Whether the returned fd's -y path is exactly `path` (checked in place, without decoding). */
  fdPathIs(path: string): boolean {
    const { fdStart, fdEnd } = this;
    return fdStart >= 0 && equalsAt(this.text, fdStart, fdEnd, path) && !this.hasEscapes(fdStart, fdEnd);
  }

  /** text[start, end) with C escapes decoded (see unescapeC). */
  decoded(start: number, end: number): string {
    return this.escapes ? unescapeC(this.text, start, end) : this.text.slice(start, end);
  }

  /** Whether text[start, end) holds a backslash (an escape to decode). */
  hasEscapes(start: number, end: number): boolean {
    return this.escapes && hasBackslash(this.text, start, end);
  }

  /**
   * decodeFdArg for argument `i`, without building objects: the decoded -y path, NO_FD_PATH
   * for an fd printed without one, or undefined when the argument is not an fd.
   */
  fdArgPath(i: number): string | typeof NO_FD_PATH | undefined {
    const text = this.text;
    const start = this.argStart(i);
    const end = this.argEnd(i);
    let lt = start;
    let digits = true;
    for (; lt < end; lt++) {
      const c = text.charCodeAt(lt);
      if (c === 0x3c) break;
      if (c < 0x30 || c > 0x39) digits = false;
    }
    // A few plain digits are the usual fd; anything else gets decodeFdArg's exact Number() rules.
    if (!digits || lt === start || lt - start > 15) {
      const head = text.slice(start, lt);
      if (head !== 'AT_FDCWD' && (head.length === 0 || !Number.isInteger(Number(head)))) return undefined;
    }
    if (lt === end) return NO_FD_PATH;
    if (text.charCodeAt(end - 1) !== 0x3e) return undefined;
    return this.decoded(lt + 1, end - 1);
  }

  /** Plain-object form, for parseStraceLine and tools. */
  toLine(pid: number, syscall: string): SyscallLine {
    const args: string[] = [];
    for (let i = 0; i < this.argc; i++) args.push(this.arg(i)!);
    const result: SyscallResult = { raw: this.text.slice(this.resultStart, this.resultEnd), value: this.value };
    const fdPath = this.fdPath();
    if (fdPath !== undefined) result.fdPath = fdPath;
    if (this.errno !== undefined) result.errno = this.errno;
    return { kind: 'call', pid, syscall, args, result };
  }

  /**
   * Record the top-level arguments in text[from, end); returns the index of the closing
   * parenthesis or -1 when the text ends first. Quoted strings, -y annotations and comments
   * are jumped over with indexOf: they are most of a line and may hold any of `,()[]{}`.
   */
  private scanArgs(text: string, from: number, end: number): number {
    let depth = 0;
    this.argFrom = from;
    for (let i = from; i < end; i++) {
      const c = text.charCodeAt(i);
      switch (c) {
        case 0x22: // "
          i = skipQuoted(text, i + 1, end);
          if (i < 0) return -1;
          break;
        case 0x3c: { // < opens a -y annotation after an fd number or AT_FDCWD
          const p = i > from ? text.charCodeAt(i - 1) : 0;
          if ((p >= 0x30 && p <= 0x39) || p === 0x44 /* D */) {
            i = indexBefore(text, '>', i + 1, end);
            if (i < 0) return -1;
          }
          break;
        }
        case 0x2f: // /* comment */
          if (i + 1 < end && text.charCodeAt(i + 1) === 0x2a) {
            const e = indexBefore(text, '*/', i + 2, end);
            if (e < 0) return -1;
            i = e + 1;
          }
          break;
        case 0x7b: { // {
          // A flat struct (`{st_mode=S_IFREG|0644, st_size=35403, ...}`: most stat lines) is
          // matched in one native step; anything nested or quoted takes the general path.
          FLAT_STRUCT.lastIndex = i;
          if (FLAT_STRUCT.test(text) && FLAT_STRUCT.lastIndex <= end) i = FLAT_STRUCT.lastIndex - 1;
          else depth++;
          break;
        }
        case 0x28: case 0x5b: case 0x5d: case 0x7d: case 0x29: case 0x2c: // ( [ ] } ) ,
          depth = bracket(this, c, depth, i);
          if (depth === END_OF_LIST) return i;
          break;
      }
    }
    return -1;
  }

  /** Record the argument text[start, end) (see ArgList). */
  pushArg(start: number, end: number): void {
    const text = this.text;
    while (start < end && text.charCodeAt(start) === 0x20) start++;
    while (end > start && text.charCodeAt(end - 1) === 0x20) end--;
    if (end === start && this.argc === 0) return;
    this.spans[2 * this.argc] = start;
    this.spans[2 * this.argc + 1] = end;
    this.argc++;
  }

  /** Read ` = value[<fd path>] [ERRNO (text)]` from `i`; false when there is no result. */
  private scanResult(text: string, i: number, end: number): boolean {
    while (i < end && text.charCodeAt(i) === 0x20) i++;
    if (i >= end || text.charCodeAt(i) !== 0x3d /* = */) return false;
    i++;
    while (i < end && text.charCodeAt(i) === 0x20) i++;
    const start = i;
    while (i < end) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x3c) break;
      i++;
    }
    if (i === start) return false;
    this.resultStart = start;
    this.resultEnd = i;
    this.value = numericValue(text, start, i);
    this.fdStart = -1;
    this.errno = undefined;
    if (i < end && text.charCodeAt(i) === 0x3c) {
      const close = indexBefore(text, '>', i + 1, end);
      if (close < 0) return false;
      this.fdStart = i + 1;
      this.fdEnd = close;
      i = close + 1;
    }
    if (this.value !== undefined && this.value < 0) {
      while (i < end && text.charCodeAt(i) === 0x20) i++;
      const e = i;
      while (i < end && isErrnoChar(text.charCodeAt(i))) i++;
      if (i > e) this.errno = text.slice(e, i);
    }
    return true;
  }
}

export const LINE_CALL = 0;
export const LINE_UNFINISHED = 1;
export const LINE_RESUMED = 2;
export const LINE_EXIT = 3;
export const LINE_SKIP = 4;
export const LINE_MALFORMED = 5;
export type LineKind = typeof LINE_CALL | typeof LINE_UNFINISHED | typeof LINE_RESUMED | typeof LINE_EXIT |
  typeof LINE_SKIP | typeof LINE_MALFORMED;

/**
 * Classifies one line and records where its parts are. Which fields mean something depends on
 * `kind`: `syscall` for calls, unfinished and resumed lines; `call` for complete calls;
 * `partStart`/`partEnd` for the arguments of an unfinished call or the tail of a resumed one;
 * `notice` for `+++` lines; `reason` for skipped and malformed lines.
 */
export class LineScan<Info extends SyscallInfo = SyscallInfo> {
  kind: LineKind = LINE_SKIP;
  text = '';
  /** The end of the line within `text`, as given to `scan`. */
  end = 0;
  pid: number | undefined;
  syscall = '';
  partStart = 0;
  partEnd = 0;
  reason = '';
  notice: ExitLine | SkippedLine | undefined;
  /** The table's entry for `syscall` (calls, unfinished and resumed lines); then `syscall` is its name. */
  info: Info | undefined;
  readonly call = new ScannedCall();

  /** @param syscalls the syscalls to look up by name (see `info`). */
  constructor(private readonly syscalls?: ReadonlyMap<string, Info>) {}

  /** Scan line[0, end); a `\r` ending it is ignored. */
  scan(line: string, end = line.length): LineKind {
    this.text = line;
    this.end = end;
    this.pid = undefined;
    if (end > 0 && line.charCodeAt(end - 1) === 0x0d) end--; // tolerate CRLF
    let i = 0;
    while (i < end && line.charCodeAt(i) === 0x20) i++;
    if (i === end) return this.skip('blank');
    const pidStart = i;
    let pid = 0;
    while (i < end) {
      const c = line.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      pid = pid * 10 + (c - 0x30);
      i++;
    }
    if (i === pidStart || i - pidStart > 10) return this.malformed('no pid');
    if (i >= end || line.charCodeAt(i) !== 0x20) return this.malformed('no space after pid');
    while (i < end && line.charCodeAt(i) === 0x20) i++;
    if (i >= end) return this.malformed('nothing after pid');
    this.pid = pid;
    switch (line.charCodeAt(i)) {
      case 0x2b: // +
        return this.scanNotice(pid, line.slice(i, end));
      case 0x2d: // -
        if (matchesAt(line, i, '---')) return this.skip('signal');
        break;
      case 0x3c: // <
        return this.resumed(line, i, end);
    }

    const nameStart = i;
    while (i < end && isNameChar(line.charCodeAt(i))) i++;
    if (i === nameStart || i >= end || line.charCodeAt(i) !== 0x28 /* ( */) return this.malformed('no syscall');
    this.setSyscall(line.slice(nameStart, i));
    const body = i + 1;
    if (endsWithAt(line, UNFINISHED, body, end)) {
      this.partStart = body;
      this.partEnd = end - UNFINISHED.length;
      return (this.kind = LINE_UNFINISHED);
    }
    if (endsWithAt(line, DETACHED, body, end)) return this.skip('detached');
    const bad = this.call.scan(line, body, end);
    return bad === undefined ? (this.kind = LINE_CALL) : this.malformed(bad);
  }

  private setSyscall(name: string): void {
    const info = this.syscalls?.get(name);
    this.info = info;
    this.syscall = info === undefined ? name : info.name;
  }

  /** The text between the parts' positions (unfinished arguments, resumed tail). */
  part(): string {
    return this.text.slice(this.partStart, this.partEnd);
  }

  /** Plain-object form of the last scan. */
  toLine(): StraceLine {
    const pid = this.pid!;
    switch (this.kind) {
      case LINE_CALL: return this.call.toLine(pid, this.syscall);
      case LINE_UNFINISHED: return { kind: 'unfinished', pid, syscall: this.syscall, argsText: this.part() };
      case LINE_RESUMED: return { kind: 'resumed', pid, syscall: this.syscall, tail: this.part() };
      case LINE_EXIT: return this.notice!;
      case LINE_SKIP: return this.notice ?? (this.pid === undefined
        ? { kind: 'skip', reason: this.reason as SkippedLine['reason'] }
        : { kind: 'skip', pid, reason: this.reason as SkippedLine['reason'] });
      case LINE_MALFORMED: return malformed(this.reason);
    }
  }

  private resumed(line: string, i: number, end: number): LineKind {
    if (!matchesAt(line, i, RESUMED_PREFIX)) return this.malformed('unexpected <');
    const close = indexBefore(line, RESUMED_SUFFIX, i + RESUMED_PREFIX.length, end);
    if (close < 0) return this.malformed('bad resumed marker');
    if (!isName(line, i + RESUMED_PREFIX.length, close)) return this.malformed('bad syscall name');
    this.setSyscall(line.slice(i + RESUMED_PREFIX.length, close));
    this.partStart = close + RESUMED_SUFFIX.length;
    this.partEnd = end;
    return (this.kind = LINE_RESUMED);
  }

  private scanNotice(pid: number, text: string): LineKind {
    const line = parseNotice(pid, text);
    if (line.kind === 'malformed') return this.malformed(line.reason);
    this.notice = line;
    if (line.kind === 'skip') {
      this.reason = line.reason;
      return (this.kind = LINE_SKIP);
    }
    return (this.kind = LINE_EXIT);
  }

  private skip(reason: SkippedLine['reason']): LineKind {
    this.reason = reason;
    this.notice = undefined;
    return (this.kind = LINE_SKIP);
  }

  private malformed(reason: string): LineKind {
    this.reason = reason;
    return (this.kind = LINE_MALFORMED);
  }
}

export function parseStraceLine(line: string): StraceLine {
  const scan = new LineScan();
  scan.scan(line);
  return scan.toLine();
}

/** Join the two halves of an interrupted call into one complete call record. */
export function joinResumed(unfinished: UnfinishedLine, resumed: ResumedLine): SyscallLine | MalformedLine {
  const text = unfinished.argsText + resumed.tail;
  const call = new ScannedCall();
  const bad = call.scan(text, 0, text.length);
  if (bad !== undefined) return malformed(bad);
  const line = call.toLine(unfinished.pid, unfinished.syscall);
  line.resumed = true;
  return line;
}

/** What scanArgs (here and in byte-call.ts) records arguments into. */
export interface ArgList {
  /** Where the argument being scanned starts. */
  argFrom: number;
  /** Record the argument in [start, end), trimmed of spaces (one empty first argument is none: `vfork()`). */
  pushArg(start: number, end: number): void;
}

/** nest() for a comma or `)` that ends an argument, and for a `)` that also ends the list. */
const END_OF_ARG = -1;
export const END_OF_LIST = -2;

/**
 * scanArgs at `c`, one of `([]}),`, at index i and bracket depth `depth`: the new depth, or
 * END_OF_LIST when this `)` ends the list (its last argument recorded, as every one a
 * top-level comma ends).
 */
export function bracket(list: ArgList, c: number, depth: number, i: number): number {
  const next = nest(c, depth);
  if (next >= 0) return next;
  list.pushArg(list.argFrom, i);
  list.argFrom = i + 1;
  return next === END_OF_LIST ? END_OF_LIST : 0;
}

/**
 * The depth of brackets after `c`, one of `([]}),`, at `depth` (see bracket); END_OF_ARG or
 * END_OF_LIST where it ends an argument. Any closer closes any opener: strace never mixes them.
 */
export function nest(c: number, depth: number): number {
  switch (c) {
    case 0x28: case 0x5b: return depth + 1; // ( [
    case 0x29: return depth > 0 ? depth - 1 : END_OF_LIST; // )
    case 0x2c: return depth > 0 ? depth : END_OF_ARG; // ,
    default: return depth > 0 ? depth - 1 : 0; // ] }
  }
}

/** Numeric value of the result text[start, end); undefined for `?` and anything unreadable. */
function numericValue(text: string, start: number, end: number): number | undefined {
  // Fast path: a plain decimal (`3`, `-1`, `2160`) short enough to be exact.
  let i = start;
  const negative = text.charCodeAt(i) === 0x2d;
  if (negative) i++;
  if (end > i && end - i <= 15) {
    let v = 0;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x30 || c > 0x39) break;
      v = v * 10 + (c - 0x30);
    }
    if (i === end) return negative ? -v : v;
  }
  return numericValueOf(text.slice(start, end));
}

export function numericValueOf(raw: string): number | undefined {
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

/** ScannedCall.fdArgPath of an fd printed without a -y path. */
export const NO_FD_PATH = null;

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

export function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || (c >= 0x41 && c <= 0x5a) || c === 0x3f;
}

function isName(text: string, start: number, end: number): boolean {
  if (end === start) return false;
  for (let i = start; i < end; i++) if (!isNameChar(text.charCodeAt(i))) return false;
  return true;
}

export function isErrnoChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;
}

function malformed(reason: string): MalformedLine {
  return { kind: 'malformed', reason };
}
