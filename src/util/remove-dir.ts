import { rm } from 'node:fs/promises';
import { debug } from './log.js';

/**
 * Removes `dir` with everything in it. A removal refused for want of permission (EACCES, EPERM:
 * what an app running as root wrote into a bind-mounted dir, when slimify is not root) calls
 * `clear`, which empties what it can through the engine and resolves false when it cannot help;
 * then the removal is tried once more. Other failures, and refusals `clear` cannot help with,
 * are thrown as they came.
 */
export async function removeDir(dir: string, clear?: () => Promise<boolean>): Promise<void> {
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    await remove();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (!clear || (code !== 'EACCES' && code !== 'EPERM')) throw error;
    debug(`cleanup: ${dir}: ${(error as Error).message}; clearing it through the engine`);
    if (!(await clear())) throw error;
    await remove();
  }
}
