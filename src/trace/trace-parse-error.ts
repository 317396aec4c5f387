import { SlimifyError } from '../errors.js';

/** A trace line the parser could not understand, raised only in strict mode. */
export class TraceParseError extends SlimifyError {
  /** 1-based line number within its trace file. */
  readonly lineNumber: number;
  readonly source?: string;
  /** The offending line, cut to 200 characters. */
  readonly line: string;
  readonly reason: string;

  constructor(reason: string, line: string, lineNumber: number, source?: string) {
    const where = source === undefined ? `line ${lineNumber}` : `${source}:${lineNumber}`;
    super(
      `Cannot parse the strace trace at ${where} (${reason}). ` +
        'Was it written by strace -f -y -qq -o? Parse without strict mode to skip such lines.',
      { code: 'internal', stage: 'parse' },
    );
    this.lineNumber = lineNumber;
    if (source !== undefined) this.source = source;
    this.line = line.length > 200 ? line.slice(0, 200) : line;
    this.reason = reason;
  }
}
