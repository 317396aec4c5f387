/**
 * One error family for the whole tool. The message says what failed and what to do next;
 * the context travels as fields, the underlying error as `cause`. The CLI maps `code` to an
 * exit status (docs/exit-codes.md); library code never exits the process.
 */
export type ErrorCode =
  | 'usage'
  | 'engine-unreachable'
  | 'image-not-found'
  | 'probe-failed'
  | 'verify-failed'
  | 'target-failed'
  | 'output-exists'
  | 'no-space'
  | 'interrupted'
  | 'internal';

export const EXIT_CODES: Record<ErrorCode, number> = {
  usage: 2,
  'engine-unreachable': 3,
  'image-not-found': 4,
  'probe-failed': 5,
  'verify-failed': 6,
  'target-failed': 7,
  'output-exists': 8,
  'no-space': 9,
  interrupted: 130,
  internal: 1,
};

export type Stage =
  | 'setup'
  | 'inspect'
  | 'sensor'
  | 'trace'
  | 'index'
  | 'probe'
  | 'parse'
  | 'closure'
  | 'assemble'
  | 'load'
  | 'verify'
  | 'report'
  | 'xray'
  | 'lint'
  | 'compare'
  | 'clean';

export interface SlimifyErrorOptions {
  code?: ErrorCode;
  stage?: Stage;
  image?: string;
  cause?: unknown;
  /** Extra lines shown under the message (probe output, missing files ...). */
  details?: string[];
}

export class SlimifyError extends Error {
  override readonly name = 'SlimifyError';
  readonly code: ErrorCode;
  readonly stage?: Stage;
  readonly image?: string;
  readonly details: string[];

  constructor(message: string, options: SlimifyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'internal';
    this.stage = options.stage;
    this.image = options.image;
    this.details = options.details ?? [];
  }

  get exitCode(): number {
    return EXIT_CODES[this.code];
  }
}

export function isSlimifyError(error: unknown): error is SlimifyError {
  return error instanceof SlimifyError;
}

/** HTTP status of an engine (dockerode / docker-modem) error, if it carries one. */
export function engineStatus(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'statusCode' in error) {
    const status = (error as { statusCode: unknown }).statusCode;
    return typeof status === 'number' ? status : undefined;
  }
  return undefined;
}
