/**
 * The trace stage: turns strace output into the set of paths the application touched.
 * Pure: no I/O beyond reading the chunks it is given.
 */
export { parseTrace, TraceParser } from './trace-parser.js';
export type { TraceFileInput, TraceFileOptions, TraceInput, TraceParserOptions } from './trace-parser.js';
export { TraceParseError } from './trace-parse-error.js';
export { DEFAULT_PSEUDO_ROOTS } from './trace-summary.js';
export type {
  AccessKind, CreatedPath, ExecutedPath, ExitStatus, LineCounts, PathMiss, PathUse, RenamedPath, TraceRun,
  TraceSummary,
} from './trace-summary.js';
export { decodeFdArg, joinResumed, parseStraceLine } from './strace-line.js';
export type { FdArg, StraceLine, SyscallLine, SyscallResult } from './strace-line.js';
export { decodeCString } from './c-string.js';
export { pathFromBytes } from './path-encoding.js';
export { normalizeAbsolute, resolvePath } from './path-resolve.js';
