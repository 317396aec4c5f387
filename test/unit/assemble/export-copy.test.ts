// The copy of the image's filesystem: a full disk while it is written is the user's to fix, and
// is said so; a TMPDIR without room for it is refused before anything runs.
import { describe, expect, it } from 'vitest';
import { ExportWriter, ensureRoom } from '../../../src/assemble/export-copy.js';
import { SlimifyError } from '../../../src/errors.js';

describe('ExportWriter', () => {
  it('turns ENOSPC into a no-space error that names the file and says what to do', () => {
    const writer = new ExportWriter('/dev/full');
    try {
      expect(() => writer.write(Buffer.alloc(4096))).toThrow(/no space left in \/dev\/full while copying the image filesystem: free space there, or set TMPDIR/);
      try {
        writer.write(Buffer.alloc(1));
      } catch (error) {
        expect(error).toBeInstanceOf(SlimifyError);
        expect((error as SlimifyError).code).toBe('no-space');
      }
    } finally {
      writer.close();
    }
  });
});

describe('ensureRoom', () => {
  it('passes when the directory has room and refuses with the sizes when it has not', async () => {
    await expect(ensureRoom('/tmp', 1000)).resolves.toBeUndefined();
    await expect(ensureRoom('/tmp', 1e13)).rejects.toThrow(/keeps a copy of the image's filesystem while it works \(about 11\.0 TB\), and \/tmp has [0-9.]+ [kMGT]B free/);
  });
});
