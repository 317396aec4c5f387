import { ElfFormatError, type ElfInfo } from './elf-reader.js';

/** How many `readElf` calls may run at once (each may fetch a file from the engine). */
const CONCURRENCY = 8;

/**
 * Reads each ELF file at most once, a few at a time, and never rejects: a file that is not
 * valid ELF becomes a warning, any other failure is kept for the caller to raise at the end.
 */
export class ElfCache {
  readonly #read: (path: string) => Promise<ElfInfo | undefined>;
  readonly #results = new Map<string, Promise<ElfInfo | undefined>>();
  readonly #waiting: Array<() => void> = [];
  #running = 0;
  readonly warnings: string[] = [];
  readonly failures: Array<{ path: string; error: unknown }> = [];

  constructor(read: (path: string) => Promise<ElfInfo | undefined>) {
    this.#read = read;
  }

  get(path: string): Promise<ElfInfo | undefined> {
    let result = this.#results.get(path);
    if (result === undefined) {
      result = this.#load(path);
      this.#results.set(path, result);
    }
    return result;
  }

  async #load(path: string): Promise<ElfInfo | undefined> {
    // A finishing read hands its slot straight to the next waiter.
    if (this.#running < CONCURRENCY) this.#running += 1;
    else await new Promise<void>((wake) => this.#waiting.push(wake));
    try {
      return await this.#read(path);
    } catch (error) {
      if (error instanceof ElfFormatError) this.warnings.push(`${path}: not a readable ELF file (${error.message})`);
      else this.failures.push({ path, error });
      return undefined;
    } finally {
      const next = this.#waiting.shift();
      if (next === undefined) this.#running -= 1;
      else next();
    }
  }
}
