import { FastLines } from './fast-lines.js';
import { LineSplitter, latin1 } from './line-splitter.js';
import { LINE_EXIT, LINE_MALFORMED, LINE_SKIP, LineScan } from './strace-line.js';
import { TraceParseError } from './trace-parse-error.js';
import { SYSCALLS, TraceState } from './trace-state.js';
import { DEFAULT_PSEUDO_ROOTS, SummaryBuilder, type LineCounts, type TraceRun, type TraceSummary } from './trace-summary.js';

export interface TraceParserOptions {
  /** Working directory of each run's first process: the image's WorkingDir. Default `/`. */
  initialCwd?: string;
  /** Path prefixes reported under `pseudo` instead of `used`/`missing`. Default /proc, /sys, /dev. */
  pseudoRoots?: readonly string[];
  /** Throw a TraceParseError on the first line that cannot be parsed instead of counting it. */
  strict?: boolean;
}

export interface TraceFileOptions {
  /** A name for error messages and `TraceSummary.runs` (e.g. the file name). */
  source?: string;
  /** Overrides `TraceParserOptions.initialCwd` for this file (e.g. an exec probe's workdir). */
  initialCwd?: string;
}

/**
 * Incremental parser: feed the lines of one or more trace files, each file a separate strace
 * run (its own root process, its own pid table; pids are not shared between files).
 *
 *   const parser = new TraceParser({ initialCwd: '/app' });
 *   parser.startFile({ source: 'main.trace' });  // optional for a single file
 *   for (const line of lines) parser.feed(line);
 *   const summary = parser.summary();
 */
export class TraceParser {
  private readonly out: SummaryBuilder;
  private readonly counts: LineCounts = {
    total: 0, parsed: 0, skipped: 0, malformed: 0, unmatchedResumed: 0, unfinishedAtEnd: 0,
  };
  private readonly runs: TraceRun[] = [];
  private state: TraceState | undefined;
  /** Reused for every line: scanning records positions and allocates next to nothing. */
  private readonly line = new LineScan(SYSCALLS);
  /** Takes most lines of feedBytes straight from their bytes; the rest go to feed's scanner. */
  private readonly fast: FastLines;
  private source: string | undefined;
  private lineNumber = 0;

  constructor(private readonly options: TraceParserOptions = {}) {
    this.out = new SummaryBuilder(options.pseudoRoots ?? DEFAULT_PSEUDO_ROOTS);
    this.fast = new FastLines(this.counts, this.out);
  }

  /** Begin a new trace file (ends the current one, if any). */
  startFile(file: TraceFileOptions = {}): void {
    this.endFile();
    this.state = new TraceState(file.initialCwd ?? this.options.initialCwd ?? '/', this.out, this.counts);
    this.source = file.source;
    this.lineNumber = 0;
  }

  /** One line of strace output, with or without its trailing newline. */
  feed(line: string): void {
    const state = this.state ?? this.startState();
    this.counts.total++;
    this.lineNumber++;
    this.scanText(line, state);
  }

  /**
   * feed() for the line in bytes[start, end) (latin1, as LineSplitter reads a trace), with or
   * without its trailing newline. The same result, faster: most lines are handled without
   * becoming a string. The bytes are not kept.
   */
  feedBytes(bytes: Buffer, start: number, end: number): void {
    const state = this.state ?? this.startState();
    this.counts.total++;
    this.lineNumber++;
    const stop = end > start && bytes[end - 1] === 0x0a ? end - 1 : end;
    if (!this.fast.handle(bytes, start, stop, state)) this.scanText(latin1(bytes, start, end), state);
  }

  private scanText(line: string, state: TraceState): void {
    const scan = this.line;
    const end = line.length > 0 && line.charCodeAt(line.length - 1) === 0x0a ? line.length - 1 : line.length;
    switch (scan.scan(line, end)) {
      case LINE_MALFORMED:
        if (this.options.strict) throw new TraceParseError(scan.reason, line, this.lineNumber, this.source);
        this.counts.malformed++;
        return;
      case LINE_SKIP:
        this.counts.skipped++;
        return;
      case LINE_EXIT:
        this.counts.skipped++;
        state.handle(scan);
        return;
      default:
        this.counts.parsed++;
        state.handle(scan);
    }
  }

  /** Finish the current trace file: settle children whose parent never showed, and so on. */
  endFile(): void {
    if (this.state === undefined) return;
    this.runs.push(this.state.finish(this.source));
    this.state = undefined;
  }

  /** Ends the current file and returns everything seen so far. */
  summary(): TraceSummary {
    this.endFile();
    return this.out.build(this.counts, [...this.runs]);
  }

  private startState(): TraceState {
    this.startFile();
    return this.state!;
  }
}

/** Anything that yields chunks: a Readable, a file handle's stream, an array of strings ... */
export type TraceInput = AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

export interface TraceFileInput extends TraceFileOptions {
  input: TraceInput;
}

/**
 * Parse one trace, or several (each a separate strace run, given as `{ input, source }`
 * objects), streaming: lines are cut from chunks as they arrive and never gathered, so memory
 * follows the number of distinct paths. An array of strings or Buffers is one trace's chunks.
 * Stream errors reject the returned promise.
 */
export async function parseTrace(
  input: TraceInput | TraceFileInput | readonly TraceFileInput[],
  options: TraceParserOptions = {},
): Promise<TraceSummary> {
  const files: readonly TraceFileInput[] = isFileList(input) ? input : isFileInput(input) ? [input] : [{ input }];
  const parser = new TraceParser(options);
  const feed = (bytes: Buffer, start: number, end: number): void => parser.feedBytes(bytes, start, end);
  for (const { input: chunks, ...fileOptions } of files) {
    parser.startFile(fileOptions);
    const splitter = new LineSplitter();
    for await (const chunk of chunks) splitter.pushBytes(chunk, feed);
    splitter.endBytes(feed);
  }
  return parser.summary();
}

function isFileList(value: TraceInput | TraceFileInput | readonly TraceFileInput[]): value is readonly TraceFileInput[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => isFileInput(item as TraceInput | TraceFileInput));
}

function isFileInput(value: TraceInput | TraceFileInput | readonly TraceFileInput[]): value is TraceFileInput {
  return typeof value === 'object' && value !== null && 'input' in value && !(Symbol.asyncIterator in value) && !(Symbol.iterator in value);
}
