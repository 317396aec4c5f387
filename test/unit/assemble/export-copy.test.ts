// The copy of the image's filesystem: a full disk while it is written is the user's to fix, and
// is said so; a TMPDIR without room for it is refused before anything runs.
import { describe, expect, it } from 'vitest';
import { ExportWriter, MEMORY_COPY_LIMIT, copyPlace, copySize, ensureRoom } from '../../../src/assemble/export-copy.js';
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

describe('copyPlace', () => {
  const GB = 1e9;
  const roomy = { tmpdirSet: false, needed: copySize(132e6), memoryDirFree: 12 * GB, memAvailable: 22 * GB };

  it('keeps a small image in shared memory when there is room and memory to spare', () => {
    expect(copyPlace(roomy)).toBe('memory');
  });

  it('leaves the choice to the user who set TMPDIR', () => {
    expect(copyPlace({ ...roomy, tmpdirSet: true })).toBe('tmpdir');
  });

  it('sends big images to TMPDIR, however much memory there is', () => {
    expect(copyPlace({ ...roomy, needed: copySize(2.3 * GB) })).toBe('tmpdir');
    expect(copyPlace({ ...roomy, needed: MEMORY_COPY_LIMIT + 1 })).toBe('tmpdir');
  });

  it('uses no more than an eighth of the available memory, nor more than shared memory holds', () => {
    expect(copyPlace({ ...roomy, memAvailable: 8 * roomy.needed - 1 })).toBe('tmpdir');
    expect(copyPlace({ ...roomy, memAvailable: 8 * roomy.needed })).toBe('memory');
    expect(copyPlace({ ...roomy, memoryDirFree: roomy.needed - 1 })).toBe('tmpdir');
  });

  it('falls back to TMPDIR when there is no shared memory or the memory is unknown', () => {
    expect(copyPlace({ ...roomy, memoryDirFree: undefined })).toBe('tmpdir');
    expect(copyPlace({ ...roomy, memAvailable: undefined })).toBe('tmpdir');
  });
});
