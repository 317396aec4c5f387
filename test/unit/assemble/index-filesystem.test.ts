import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { indexFilesystem } from '../../../src/assemble/index-filesystem.js';

describe('indexFilesystem', () => {
  it('destroys the stream when the copy cannot be opened (its open connection to the engine would keep the process alive)', async () => {
    const stream = new PassThrough();
    await expect(indexFilesystem(stream, { copyTo: '/nonexistent-slimify-dir/filesystem.tar' })).rejects.toThrow(/ENOENT/);
    expect(stream.destroyed).toBe(true);
  });
});
