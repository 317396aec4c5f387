import { ByteCall, CALL, DECLINE as DECLINE_LINE, UNFINISHED_CALL, matches } from './byte-call.js';
import { unescapeBytes } from './c-string.js';
import { LineMemo } from './line-memo.js';
import { latin1 } from './line-splitter.js';
import { latin1OfPath } from './path-encoding.js';
import { FNV_OFFSET, PathTable, fnvStep, hashBytes } from './path-table.js';
import {
  IGNORE, NO_DIRFD, OK, UNKNOWN, flagsIn, openAccess, outcomeOf, recordOpenFlags, recordOutcome, type Cwd,
  type EffectShape, type Outcome, type SyscallEffect,
} from './syscall-effects.js';
import { SYSCALLS, type Proc, type Syscall, type TraceState } from './trace-state.js';
import type { AccessKind, LineCounts, PathRecord, SummaryBuilder } from './trace-summary.js';

/**
 * The trace parser's fast path: the commonest lines (complete calls of ignored syscalls and of
 * the path, open and getdents syscalls; unfinished and resumed calls; exit_group of processes
 * other than the root) handled straight from the bytes they were read into. Paths are looked
 * up by their bytes (SummaryBuilder.recordBytes), so a path seen before costs no string at
 * all, and a line seen before (LineMemo) costs hardly more than finding its end.
 *
 * It must do exactly what TraceParser.feed does with the same line as text, and it does it
 * only where that is simple to get right: everything else it declines before recording
 * anything (handle returns false) and the line goes to feed. Declined besides what ByteCall
 * declines: fork-like calls, exit_group of the root process, the rarer file syscalls, the
 * first line of a file and lines of new pids while a fork is under way (TraceState holds
 * them back), fds given other than as plain digits, NULL or pointer paths, paths that need
 * normalising (`..`, `.`, `//`, a trailing `/`) and names that decode to chars above 0xff.
 */
export class FastLines {
  private readonly call = new ByteCall();
  /** SYSCALLS by name, looked up with the name's bytes. */
  private readonly syscalls = new PathTable<Syscall>();
  /** Where a resumed call is joined to the start of its pending call. */
  private resumedText = Buffer.alloc(1024);
  /** The path that resolve() found, the one the call is recorded under. */
  private readonly key = new PathBytes();
  /** The path of the dirfd argument (or of getdents' fd). */
  private readonly base = new PathBytes();
  /** The path argument, decoded. */
  private readonly path = new PathBytes();
  /** The process's cwd, as a base to join to. */
  private readonly cwd = new PathBytes();
  /** The -y path of the fd an open returned. */
  private readonly fd = new PathBytes();
  /** Whether `base` is a new cwd for the process (learnt from `AT_FDCWD</path>`). */
  private learnt = false;
  /** Complete calls seen lately whose effect is recorded already. */
  private readonly memo = new LineMemo();
  /** Whether the line being handled has an effect that its text alone decides (then it goes in `memo`). */
  private memoizable = false;
  /** Whether the line shows its process's cwd (a usable `AT_FDCWD</path>`, in `base`). */
  private showsCwd = false;
  /** The mark bits of effects (see effectBit), by syscall name, then errno, outcome and flags. */
  private readonly effectBits = new Map<string, Map<number, number>>();
  private nextBit = 0;
  /** A number for each errno name seen (from 1). */
  private readonly errnos = new Map<string, number>();
  /**
   * The last few open flags arguments read, and their flags (see syscall-effects.ts openFlags):
   * an application opens with a handful of them, which mostly differ in length (one compare).
   */
  private readonly flagsTexts: string[] = ['', '', '', ''];
  private readonly flagsValues = new Int32Array(4);
  private nextFlags = 0;

  constructor(private readonly counts: LineCounts, private readonly out: SummaryBuilder) {
    for (const syscall of SYSCALLS.values()) {
      const name = Buffer.from(syscall.name, 'latin1');
      this.syscalls.add(name, 0, name.length, syscall);
    }
  }

  /**
   * Handle line[start, end) as feed() would; false to leave it to feed(), having changed
   * nothing but what handle() would change first for it too (a new pid adopted, see procFor).
   */
  handle(line: Buffer, start: number, end: number, state: TraceState): boolean {
    if (end - start < 2 || line[end - 1] === 0x0d) return false;
    const call = this.call;
    const rest = call.scanPid(line, start, end);
    if (rest < 0) return false;
    const seen = this.memo.find(line, rest, end);
    if (seen >= 0) return this.replay(seen, state);
    const kind = call.scanRest(line, rest, end);
    if (kind === DECLINE_LINE) return false;
    const id = this.syscalls.find(line, call.nameStart, call.nameEnd);
    const syscall = id < 0 ? undefined : this.syscalls.values[id];
    if (kind === CALL && (!takesCall(syscall) || !call.scanCall(line, call.partStart, call.partEnd))) return false;
    const proc = state.procFor(call.pid);
    if (proc === undefined) return false;
    this.memoizable = kind === CALL;
    this.showsCwd = false;
    const done = kind === CALL ? this.onCall(syscall, proc, state)
      : kind === UNFINISHED_CALL ? this.onUnfinished(syscall, proc)
      : this.onResumed(proc, state);
    if (!done) return false;
    this.counts.parsed++;
    if (this.memoizable && this.memo.expects()) this.memo.remember(line, rest, end, this.showsCwd ? this.base.text() : undefined);
    return true;
  }

  /** A line that LineMemo remembers: its effect is recorded already, but for its process's cwd. */
  private replay(seen: number, state: TraceState): boolean {
    const proc = state.procFor(this.call.pid);
    if (proc === undefined) return false;
    const cwd = this.memo.cwd(seen);
    if (cwd !== undefined) proc.cwd.path = cwd;
    this.counts.parsed++;
    return true;
  }

  /** TraceState.onCall for the call in `call` (one that takesCall). */
  private onCall(syscall: Syscall | undefined, proc: Proc, state: TraceState): boolean {
    if (syscall === undefined) return true; // read, mmap ...: only counted
    const effect = syscall.effect;
    if (effect?.shape !== undefined) return this.run(effect, effect.shape, proc.cwd);
    // Else an exit_group (see takesCall): one that does not end the run changes nothing.
    this.memoizable = false;
    return !state.takesExit(proc);
  }

  /** TraceState.apply for an unfinished call: it waits in `proc.pending` for its resumed line. */
  private onUnfinished(syscall: Syscall | undefined, proc: Proc): boolean {
    if (syscall?.forkLike) return false; // the child's lines are held back meanwhile: TraceState's business
    const { bytes, nameStart, nameEnd, partStart, partEnd } = this.call;
    if (proc.pending !== undefined) this.counts.unfinishedAtEnd++;
    const name = syscall === undefined ? latin1(bytes, nameStart, nameEnd) : syscall.name;
    proc.pending = { syscall: name, info: syscall, argsText: latin1(bytes, partStart, partEnd) };
    return true;
  }

  /** TraceState.apply for a resumed call: joined to its pending start, it is handled as a complete call. */
  private onResumed(proc: Proc, state: TraceState): boolean {
    const call = this.call;
    const pending = proc.pending;
    if (pending === undefined || !equalsString(call.bytes, call.nameStart, call.nameEnd, pending.syscall)) {
      this.counts.unmatchedResumed++;
      return true;
    }
    if (!takesCall(pending.info)) return false;
    const { argsText } = pending;
    const need = argsText.length + call.partEnd - call.partStart;
    if (this.resumedText.length < need) this.resumedText = Buffer.alloc(2 * need);
    const text = this.resumedText;
    if (!copyLatin1(argsText, text)) return false;
    copyBytes(call.bytes, call.partStart, call.partEnd, text, argsText.length);
    // A join that does not scan counts as malformed, and an exit_group may end the run: feed's.
    if (!call.scanCall(text, 0, need) || !this.onCall(pending.info, proc, state)) return false;
    state.endPending(proc);
    return true;
  }

  private run(effect: SyscallEffect, shape: EffectShape, cwd: Cwd): boolean {
    this.learnt = false;
    const found = shape.kind === 'list' ? this.fdTarget() : this.resolve(shape, cwd);
    if (found === DECLINE) return false;
    const call = this.call;
    // The returned fd's path is decoded now: past this point nothing may decline.
    if (shape.kind === 'open' && call.fdStart >= 0 && !this.fd.set(call, call.fdStart, call.fdEnd)) return false;
    if (this.learnt) cwd.path = this.base.text();
    if (found === NO_TARGET) return true;
    const outcome = outcomeOf(call);
    if (outcome === IGNORE) return true;
    const { name } = effect;
    const out = this.out;
    const key = this.key;
    const flags = shape.kind === 'open' ? this.openFlags(shape.flagsIdx) : 0;
    // An open whose fd has another path (a symlink) records that path too: not a repeatable effect.
    const realPath = shape.kind === 'open' && call.fdStart >= 0 && !this.fd.equalsSpan(key) && this.fd.isUsable();
    const bit = realPath ? 0 : this.effectBit(name, outcome, flags);
    const id = out.idOfBytes(key.bytes, key.start, key.end, key.hashCode());
    // The summary keeps sets: an effect this path has had already changes nothing.
    if ((out.marks() & bit) !== 0) return true;
    const rec = out.recordAt(id);
    if (shape.kind !== 'open') {
      if (recordOutcome(outcome, call, name, rec, shape.access, out) !== undefined && shape.kind === 'list') out.list(rec);
    } else {
      const access = openAccess(flags);
      if (recordOutcome(outcome, call, name, rec, access, out) !== undefined) {
        recordOpenFlags(flags, rec, name, out);
        if (realPath) this.recordRealPath(rec, name, access);
      }
    }
    if (bit !== 0) out.mark(bit);
    return true;
  }

  /**
   * The mark bit of an effect on a path: the syscall, how it turned out (with its errno) and
   * the open flags decide everything run() records. The first 31 kinds seen get a bit; 0 for
   * the rest (they are recorded every time).
   */
  private effectBit(name: string, outcome: Outcome, flags: number): number {
    let errno = 0;
    if (outcome !== OK && outcome !== UNKNOWN) {
      errno = this.errnos.get(this.call.errno!) ?? 0;
      if (errno === 0) this.errnos.set(this.call.errno!, (errno = this.errnos.size + 1));
    }
    let byKind = this.effectBits.get(name);
    if (byKind === undefined) this.effectBits.set(name, (byKind = new Map()));
    const kind = (errno * 8 + outcome) * 16 + flags;
    let bit = byKind.get(kind);
    if (bit === undefined) {
      bit = this.nextBit < 31 ? 1 << this.nextBit++ : 0;
      byKind.set(kind, bit);
    }
    return bit;
  }

  /** syscall-effects.ts target(), finding the path's bytes (the key) instead of its string. */
  private resolve(shape: EffectShape, cwd: Cwd): Found {
    const call = this.call;
    const bytes = call.bytes;
    const { dirfdIdx, pathIdx } = shape;
    if (pathIdx >= call.argc) return NO_TARGET;
    let base = BASE_CWD;
    if (dirfdIdx !== NO_DIRFD) {
      if (dirfdIdx >= call.argc) return NO_TARGET;
      const start = call.argStart(dirfdIdx);
      const end = call.argEnd(dirfdIdx);
      if (end - start >= 8 && matches(bytes, start, AT_FDCWD)) {
        // learnCwd: an annotation that is usable and not the known cwd is the new cwd.
        const at = start + 8;
        if (end - at > 2 && bytes[at] === 0x3c && bytes[end - 1] === 0x3e) {
          if (!this.base.set(call, at + 1, end - 1)) return DECLINE;
          this.showsCwd = this.base.isUsable();
          if (this.showsCwd && !this.base.equals(cwd.path)) {
            this.learnt = true;
            base = BASE_SPAN;
          }
        }
      } else {
        const found = this.fdPath(start, end);
        if (found === NO_TARGET || found === DECLINE) return found;
        base = found === FOUND ? BASE_SPAN : NO_BASE;
      }
    }
    const start = call.argStart(pathIdx);
    const close = call.stringEnd(pathIdx);
    if (close < 0) return DECLINE; // NULL or a pointer
    if (close === start + 1) {
      // An empty path is the dirfd itself, under AT_EMPTY_PATH.
      if (base === NO_BASE || dirfdIdx === NO_DIRFD || !call.argsInclude(AT_EMPTY_PATH)) return NO_TARGET;
      if (base === BASE_SPAN) {
        this.key.copy(this.base);
        return FOUND;
      }
      if (!this.showsCwd) this.memoizable = false; // the path is the cwd, which the line does not show
      return this.key.setString(cwd.path);
    }
    const path = this.path;
    if (!path.set(call, start + 1, close)) return DECLINE;
    if (path.bytes[path.start] === 0x2f) this.key.copy(path);
    else if (base === NO_BASE) return NO_TARGET;
    else if (base === BASE_SPAN) this.key.join(this.base, path);
    else if (this.cwd.setString(cwd.path) === FOUND) {
      if (!this.showsCwd) this.memoizable = false; // relative to a cwd the line does not show
      this.key.join(this.cwd, path);
    } else {
      return DECLINE;
    }
    return this.key.hashIfNormal() ? FOUND : DECLINE;
  }

  /** fdCall's path for getdents: the usable -y path of the fd in argument 0. */
  private fdTarget(): Found {
    const call = this.call;
    const found = call.argc === 0 ? NO_TARGET : this.fdPath(call.argStart(0), call.argEnd(0));
    if (found === FOUND) this.key.copy(this.base);
    return found === NO_PATH ? NO_TARGET : found;
  }

  /**
   * ScannedCall.fdArgPath then usableFdPath, for the fd argument in bytes[start, end): FOUND
   * with the path in `base`; NO_PATH for an fd printed without a usable path; NO_TARGET
   * where fdArgPath gives undefined (then the call has no target).
   */
  private fdPath(start: number, end: number): Found | typeof NO_PATH {
    const call = this.call;
    const bytes = call.bytes;
    let lt = start;
    while (lt < end && bytes[lt] !== 0x3c) {
      const c = bytes[lt++]!;
      if (c < 0x30 || c > 0x39) return DECLINE; // AT_FDCWD, hex, signs: fdArgPath's Number() rules
    }
    if (lt === start || lt - start > 15) return DECLINE;
    if (lt === end) return NO_PATH;
    if (bytes[end - 1] !== 0x3e) return NO_TARGET;
    if (!this.base.set(call, lt + 1, end - 1)) return DECLINE;
    return this.base.isUsable() ? FOUND : NO_PATH;
  }

  private openFlags(flagsIdx: number): number {
    const call = this.call;
    if (flagsIdx >= call.argc) return 0;
    const start = call.argStart(flagsIdx);
    const end = call.argEnd(flagsIdx);
    const texts = this.flagsTexts;
    for (let k = 0; k < texts.length; k++) {
      if (equalsString(call.bytes, start, end, texts[k]!)) return this.flagsValues[k]!;
    }
    const text = latin1(call.bytes, start, end);
    const flags = flagsIn(text, 0, text.length);
    const k = this.nextFlags;
    this.nextFlags = (k + 1) % texts.length;
    texts[k] = text;
    this.flagsValues[k] = flags;
    return flags;
  }

  /** openCall's resultPathOtherThan: the returned fd's -y path (in `fd`), which is another path (a symlink was followed). */
  private recordRealPath(rec: PathRecord, name: string, access: AccessKind): void {
    const { fd } = this;
    const real = this.out.recordBytes(fd.bytes, fd.start, fd.end);
    this.out.use(real, name, access);
    this.out.resolvedTo(rec, real);
  }
}

/**
 * A path as latin1 bytes: a range of a line where it has no escapes, or else its decoded
 * string's chars in a buffer of its own. Either way the bytes are those of the string that
 * the text path (ScannedCall.decoded) makes, so comparing and joining bytes is comparing and
 * joining those strings.
 */
class PathBytes {
  bytes: Buffer = Buffer.alloc(0);
  start = 0;
  end = 0;
  /** The bytes' hashBytes() when `hashed` (hashIfNormal() sets it in passing). */
  private hash = 0;
  private hashed = false;
  /** The string, when set from one (else made from the bytes on demand). */
  private decoded: string | undefined;
  private own = Buffer.alloc(256);

  /** call.bytes[start, end) decoded; false when a decoded char is above 0xff (the text path's business). */
  set(call: ByteCall, start: number, end: number): boolean {
    if (!call.hasEscapes(start, end)) {
      this.point(call.bytes, start, end, undefined);
      return true;
    }
    const own = this.room(end - start);
    const n = latin1OfPath(own, unescapeBytes(call.bytes, start, end, own));
    if (n < 0) return false;
    this.point(own, 0, n, undefined);
    return true;
  }

  /** The path `s` (chars as bytes); DECLINE when one is above 0xff. */
  setString(s: string): Found {
    const own = this.room(s.length);
    if (!copyLatin1(s, own)) return DECLINE;
    this.point(own, 0, s.length, s);
    return FOUND;
  }

  copy(other: PathBytes): void {
    this.point(other.bytes, other.start, other.end, other.decoded);
  }

  /** hashBytes() of the path. */
  hashCode(): number {
    if (!this.hashed) {
      this.hash = hashBytes(this.bytes, this.start, this.end);
      this.hashed = true;
    }
    return this.hash;
  }

  /** `base` + `/` + `rel` (just `/` + `rel` when base is `/`), as resolvePath joins them. */
  join(base: PathBytes, rel: PathBytes): void {
    const baseLength = base.end - base.start;
    const need = baseLength + 1 + rel.end - rel.start;
    const own = this.room(need);
    copyBytes(base.bytes, base.start, base.end, own, 0);
    let n = baseLength;
    if (!(n === 1 && own[0] === 0x2f)) own[n++] = 0x2f;
    copyBytes(rel.bytes, rel.start, rel.end, own, n);
    this.point(own, 0, n + rel.end - rel.start, undefined);
  }

  text(): string {
    return this.decoded ?? latin1(this.bytes, this.start, this.end);
  }

  equals(s: string): boolean {
    return equalsString(this.bytes, this.start, this.end, s);
  }

  equalsSpan(other: PathBytes): boolean {
    return equalBytes(this.bytes, this.start, this.end, other.bytes, other.start, other.end);
  }

  /** usableFdPath: starts with `/` and is not a deleted file. */
  isUsable(): boolean {
    const { bytes, start, end } = this;
    if (end <= start || bytes[start] !== 0x2f) return false;
    return !(end - start >= DELETED.length && matches(bytes, end - DELETED.length, DELETED));
  }

  /**
   * Whether the path is absolute and normal: not one that path-resolve.ts needsNormalising
   * (empty, `.` or `..` segments, `//`, a trailing `/`). If so, its hashBytes() is in `hash`,
   * hashed in the same pass (the path table needs it next).
   */
  hashIfNormal(): boolean {
    const { bytes, start, end } = this;
    if (end === start || bytes[start] !== 0x2f) return false;
    if (end - start > 1 && bytes[end - 1] === 0x2f) return false;
    let hash = FNV_OFFSET;
    for (let i = start; i < end; i++) {
      const b = bytes[i]!;
      hash = fnvStep(hash, b);
      if (b !== 0x2f || i + 1 === end) continue;
      const c = bytes[i + 1];
      if (c === 0x2f) return false;
      if (c !== 0x2e) continue;
      const d = i + 2 < end ? bytes[i + 2] : 0x2f;
      if (d === 0x2f) return false;
      if (d === 0x2e && (i + 3 >= end || bytes[i + 3] === 0x2f)) return false;
    }
    this.hash = hash;
    this.hashed = true;
    return true;
  }

  /** The path is bytes[start, end), whose string is `decoded` when known. */
  private point(bytes: Buffer, start: number, end: number, decoded: string | undefined): void {
    // A line's Buffer (a chunk: new, young) stored in this (old) object costs a write barrier's
    // slow path per store; the same chunk serves thousands of lines in a row.
    if (this.bytes !== bytes) this.bytes = bytes;
    this.start = start;
    this.end = end;
    this.decoded = decoded;
    this.hashed = false;
  }

  /** This path's own buffer, with room for `size` bytes (its bytes may point into it). */
  private room(size: number): Buffer {
    if (this.own.length < size) this.own = Buffer.alloc(2 * size);
    return this.own;
  }
}

/**
 * Whether onCall may take a complete call of `syscall` (undefined: one that is only counted);
 * forks, execve and the rarer file syscalls are feed's, and are left to it before scanning.
 */
function takesCall(syscall: Syscall | undefined): boolean {
  return syscall === undefined || syscall.effect?.shape !== undefined || syscall.exitGroup;
}

/** What resolving a call's path gave: the key is set (FOUND), there is none, or the text path must decide. */
const DECLINE = -1;
const NO_TARGET = 0;
const FOUND = 1;
type Found = typeof DECLINE | typeof NO_TARGET | typeof FOUND;
/** From fdPath only: the fd has no usable path (then a dirfd gives no base). */
const NO_PATH = 2;

/** The base of a relative path in resolve(): the process's cwd, `base`, or none (an fd without a usable path). */
const BASE_CWD = 0;
const BASE_SPAN = 1;
const NO_BASE = 2;

const AT_FDCWD = Buffer.from('AT_FDCWD');
const AT_EMPTY_PATH = Buffer.from('AT_EMPTY_PATH');
const DELETED = Buffer.from(' (deleted)');

function equalsString(bytes: Buffer, start: number, end: number, s: string): boolean {
  if (end - start !== s.length) return false;
  for (let i = start, k = 0; i < end; i++, k++) if (bytes[i] !== s.charCodeAt(k)) return false;
  return true;
}

function equalBytes(a: Buffer, aStart: number, aEnd: number, b: Buffer, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = aEnd - 1, k = bEnd - 1; i >= aStart; i--, k--) if (a[i] !== b[k]) return false;
  return true;
}

/**
 * src[start, end) into dst from `at`. Buffer.copy makes a view of the source range first (an
 * allocation): for the few dozen bytes of a path, a loop is cheaper.
 */
function copyBytes(src: Buffer, start: number, end: number, dst: Buffer, at: number): void {
  for (let i = start; i < end; i++) dst[at++] = src[i]!;
}

/** Copy a string's chars as bytes; false when one is above 0xff. */
function copyLatin1(s: string, into: Buffer): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) return false;
    into[i] = c;
  }
  return true;
}
