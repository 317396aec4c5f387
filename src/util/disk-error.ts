/**
 * A full disk (or quota) while slimify writes its own temp files: one clear error that names the
 * directory and says what to do, instead of a bare ENOSPC.
 */
import { SlimifyError } from '../errors.js';

const FULL = new Set(['ENOSPC', 'EDQUOT']);

/** A `no-space` SlimifyError when `error` (or a cause) is ENOSPC/EDQUOT; undefined otherwise. */
export function diskError(error: unknown, directory: string, doing: string): SlimifyError | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof SlimifyError && e.code === 'no-space') return e;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && FULL.has(code)) {
      return new SlimifyError(
        `no space left in ${directory} while ${doing}: free space there, or set TMPDIR to a directory on a disk with more room (slimify needs about the image's size there, for its copy of the image's filesystem)`,
        { code: 'no-space', cause: error },
      );
    }
  }
  return undefined;
}
