/**
 * Contents of the image's files that the slim layer will need, kept on disk in slimify's temp
 * dir: the files the trace names are copied here while the image streams by once (the index
 * pass), and any other file the closure adds is fetched on demand. The layer is then written
 * from here, so the image is read only once.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { diskError } from '../util/disk-error.js';

export class FileSpool {
  private readonly files = new Map<string, string>();
  private count = 0;

  constructor(
    private readonly dir: string,
    private readonly wanted: (path: string) => boolean = () => false,
  ) {}

  /** Whether the index pass should copy this regular file's content here. */
  wants(path: string): boolean {
    return this.wanted(path);
  }

  /** The spooled copy of a file, if there is one. */
  get(path: string): string | undefined {
    return this.files.get(path);
  }

  /** A fresh file name in the spool, for a file about to be written. */
  allocate(path: string): string {
    return join(this.dir, `f${++this.count}`);
  }

  /** Records that `file` now holds the content of `path`. */
  register(path: string, file: string): void {
    this.files.set(path, file);
  }

  /** Copies `content` into the spool as `path`, keeping back-pressure. */
  async write(path: string, content: AsyncIterable<Buffer>, onChunk?: (chunk: Buffer) => void): Promise<void> {
    const file = this.allocate(path);
    const out = createWriteStream(file);
    try {
      for await (const chunk of content) {
        onChunk?.(chunk);
        if (!out.write(chunk)) await once(out, 'drain');
      }
      out.end();
      await finished(out);
    } catch (error) {
      out.destroy();
      throw diskError(error, this.dir, `copying ${path} out of the image`) ?? error;
    }
    this.register(path, file);
  }
}

/**
 * The paths worth copying during the index pass: every path the trace names, also under the
 * other side of the usual root links (`/lib` and `/usr/lib` ...), since the trace may have
 * reached a file through a link while the image stores it at its physical path.
 */
export function spoolCandidates(paths: Iterable<string>): Set<string> {
  const MERGED = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];
  const set = new Set<string>();
  for (const path of paths) {
    set.add(path);
    for (const dir of MERGED) {
      if (path.startsWith(`/${dir}/`)) set.add(`/usr${path}`);
      else if (path.startsWith(`/usr/${dir}/`)) set.add(path.slice(4));
    }
  }
  return set;
}

/**
 * Trees whose files the closure keeps without the trace naming each one: CA certificates and
 * user databases (closure rules), and the user's --include-tree / --preserve-path /
 * --include-path targets. Fetching such files one by one afterwards costs ~90 ms each, so they
 * are copied during the index pass too.
 */
export const RULE_TREES = ['/etc/ssl', '/etc/pki', '/usr/share/ca-certificates', '/usr/local/share/ca-certificates', '/etc/passwd', '/etc/group', '/etc/nsswitch.conf'];

export function underAny(trees: readonly string[]): (path: string) => boolean {
  const roots = trees.map((t) => (t.length > 1 && t.endsWith('/') ? t.slice(0, -1) : t));
  return (path) => roots.some((root) => path === root || path.startsWith(root === '/' ? '/' : `${root}/`));
}
