/**
 * Ctrl-C, SIGTERM, SIGHUP (the terminal went away) and a closed output pipe (`slimify ... | head`):
 * the first one runs every registered cleanup (removing containers, volumes and temp dirs) and
 * then exits; a second signal exits at once.
 */
type Cleanup = () => Promise<void>;

const cleanups = new Set<Cleanup>();
let interrupted = false;

/** 128 + the signal's number, as a shell reports a process killed by it. */
const EXIT_CODES = { SIGHUP: 129, SIGINT: 130, SIGPIPE: 141, SIGTERM: 143 } as const;
type Reason = keyof typeof EXIT_CODES;

export function onInterrupt(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

export function wasInterrupted(): boolean {
  return interrupted;
}

function interrupt(reason: Reason, say: (line: string) => void): void {
  if (interrupted) {
    say('\nslimify: forced exit; `slimify clean` removes what was left behind\n');
    process.exit(EXIT_CODES[reason]);
  }
  interrupted = true;
  const why = { SIGINT: 'interrupted', SIGTERM: 'terminated', SIGHUP: 'the terminal went away', SIGPIPE: 'the output pipe was closed' }[reason];
  say(`\nslimify: ${why}, cleaning up (press Ctrl-C again to force)\n`);
  void Promise.allSettled([...cleanups].map((c) => c())).then(() => process.exit(EXIT_CODES[reason]));
}

export function installSignalHandlers(): void {
  const toStderr = (line: string) => process.stderr.write(line);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => interrupt(signal, toStderr));
  // Node ignores SIGPIPE: a reader that went away shows up as EPIPE on the stream instead, and
  // unhandled it would end the process without the clean-up
  let silenced = false;
  const quiet = (line: string) => {
    if (!silenced) process.stderr.write(line);
  };
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      if (stream === process.stderr) silenced = true;
      if (!interrupted) interrupt('SIGPIPE', quiet);
    });
  }
}
