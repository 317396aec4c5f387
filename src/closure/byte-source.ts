import { open } from 'node:fs/promises';

/** Random access to the bytes of one file, wherever they live. */
export interface ByteSource {
  readonly size: number;
  /** Up to `length` bytes at `offset`; shorter only at the end of the source. */
  read(offset: number, length: number): Promise<Buffer>;
}

export function bufferByteSource(buffer: Buffer): ByteSource {
  return {
    size: buffer.length,
    read: async (offset, length) => buffer.subarray(offset, Math.min(buffer.length, offset + length)),
  };
}

export interface FileByteSource extends ByteSource, AsyncDisposable {
  close(): Promise<void>;
}

/**
 * A byte source over a file on disk, or over `size` bytes at `start` of it; close it (or
 * `await using` it) when done.
 */
export async function fileByteSource(path: string | Buffer, range?: { start: number; size: number }): Promise<FileByteSource> {
  const handle = await open(path, 'r');
  try {
    const start = range?.start ?? 0;
    const size = range?.size ?? (await handle.stat()).size;
    const close = () => handle.close();
    return {
      size,
      async read(offset, length) {
        const wanted = Math.max(0, Math.min(length, size - offset));
        const buffer = Buffer.alloc(wanted);
        let filled = 0;
        while (filled < wanted) {
          const { bytesRead } = await handle.read(buffer, filled, wanted - filled, start + offset + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return buffer.subarray(0, filled);
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
