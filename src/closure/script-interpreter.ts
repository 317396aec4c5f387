import type { FsIndex } from './fs-index.js';
import { join } from './paths.js';
import { resolve } from './resolve.js';

/** The PATH `env` uses when the image sets none (Docker's default). */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The program `#!/usr/bin/env ARG` runs. The kernel passes ARG as one argument, so without
 * `-S` it is the program name itself; with `-S` it is split, and options and VAR=value
 * assignments before the program are skipped.
 */
export function envProgram(argument: string | undefined): string | undefined {
  if (argument === undefined) return undefined;
  if (!argument.startsWith('-')) return argument;
  if (!argument.startsWith('-S') && !argument.startsWith('--split-string')) return undefined;
  const words = argument.replace(/^(-S|--split-string=?)/, '').split(/[ \t]+/);
  return words.find((word) => word !== '' && !word.startsWith('-') && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word));
}

/** Where `env` (execvp) finds `program` in the image: as a path, or in `pathEnv`. */
export function findCommand(index: FsIndex, program: string, pathEnv = DEFAULT_PATH): string | undefined {
  if (program.includes('/')) return resolve(index, program).final === undefined ? undefined : program;
  for (const dir of pathEnv.split(':')) {
    if (!dir.startsWith('/')) continue;
    const candidate = join(dir, program);
    const final = resolve(index, candidate).final;
    const entry = final === undefined ? undefined : index.get(final);
    if (entry !== undefined && entry.type !== 'directory') return candidate;
  }
  return undefined;
}
