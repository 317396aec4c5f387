/**
 * Logging and progress go to stderr; stdout carries results only. Progress lines are drawn in
 * place on a terminal and printed once per stage otherwise (CI logs stay readable).
 */
export type Verbosity = 'quiet' | 'normal' | 'verbose';

let verbosity: Verbosity = process.env.DEBUG?.includes('slimify') ? 'verbose' : 'normal';
const interactive = Boolean(process.stderr.isTTY) && !process.env.CI;
let liveLine = false;

export function setVerbosity(level: Verbosity): void {
  verbosity = level;
}

function clearLive(): void {
  if (liveLine) {
    process.stderr.write('\r\x1b[K');
    liveLine = false;
  }
}

export function debug(message: string): void {
  if (verbosity !== 'verbose') return;
  clearLive();
  process.stderr.write(`debug: ${message}\n`);
}

export function info(message: string): void {
  if (verbosity === 'quiet') return;
  clearLive();
  process.stderr.write(`${message}\n`);
}

export function warn(message: string): void {
  clearLive();
  process.stderr.write(`warning: ${message}\n`);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/**
 * A stage's progress: `update` redraws on a terminal (at most every 100 ms), `done` prints once.
 * A background stage (one that runs while others do) draws only while no other stage runs.
 */
const running = new Set<Progress>();

/** Stops every live progress line (before an error is printed). */
export function stopAllProgress(): void {
  for (const progress of running) progress.stop();
}

export class Progress {
  private readonly started = Date.now();
  private lastDraw = 0;
  private detail = '';
  /** on a terminal, the elapsed time keeps moving even when the stage reports nothing */
  private readonly ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly label: string,
    private readonly background = false,
  ) {
    if (verbosity !== 'quiet' && !interactive) process.stderr.write(`${label} ...\n`);
    else this.update('');
    if (verbosity !== 'quiet' && interactive) this.ticker = setInterval(() => this.draw(), 500).unref();
    running.add(this);
  }

  update(detail: string): void {
    this.detail = detail;
    if (Date.now() - this.lastDraw >= 100 || detail === '') this.draw();
  }

  private draw(): void {
    if (verbosity === 'quiet' || !interactive) return;
    if (this.background && [...running].some((p) => p !== this && !p.background)) return;
    this.lastDraw = Date.now();
    process.stderr.write(`\r\x1b[K${this.label} ${formatSeconds(this.lastDraw - this.started)} ${this.detail}`);
    liveLine = true;
  }

  /** Ends the stage without a line (it failed; the error says why). */
  stop(): void {
    clearInterval(this.ticker);
    running.delete(this);
    clearLive();
  }

  done(detail = ''): number {
    clearInterval(this.ticker);
    running.delete(this);
    const elapsed = Date.now() - this.started;
    info(`${this.label} done in ${formatSeconds(elapsed)}${detail ? `: ${detail}` : ''}`);
    return elapsed;
  }
}
