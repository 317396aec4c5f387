/**
 * Ctrl-C and SIGTERM: the first one runs every registered cleanup (removing containers, volumes
 * and temp dirs) and then exits; a second one exits at once.
 */
type Cleanup = () => Promise<void>;

const cleanups = new Set<Cleanup>();
let interrupted = false;

export function onInterrupt(cleanup: Cleanup): () => void {
  cleanups.add(cleanup);
  return () => cleanups.delete(cleanup);
}

export function wasInterrupted(): boolean {
  return interrupted;
}

export function installSignalHandlers(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) {
        process.stderr.write('\nslimify: forced exit; `slimify clean` removes what was left behind\n');
        process.exit(130);
      }
      interrupted = true;
      process.stderr.write(`\nslimify: ${signal === 'SIGINT' ? 'interrupted' : 'terminated'}, cleaning up (press Ctrl-C again to force)\n`);
      void Promise.allSettled([...cleanups].map((c) => c())).then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}
