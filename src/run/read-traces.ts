/**
 * Reads the trace files of one run and feeds them, line by line, to the trace parser. They come
 * from the trace mount (see sensor-mounts.ts): straight from the host dir when it is bind-mounted,
 * else as one tar stream of the trace volume from the finished container (the archive API). Only
 * regular files named after the run are read: the app could have replaced a trace file with a
 * link, and links are never followed.
 */
import { constants } from 'node:fs';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import type { ContainerHandle } from '../engine/container.js';
import { TRACE_DIR } from '../sensor/bundle.js';
import type { SensorMounts } from '../sensor/sensor-mounts.js';
import { LineSplitter } from '../trace/line-splitter.js';
import { TraceParser } from '../trace/trace-parser.js';
import type { TraceSummary } from '../trace/trace-summary.js';

export type TraceSource = { archive: Readable } | { dir: string };

/** Where the finished container's trace files are: the bound host dir, or its trace volume's archive. */
export async function traceSource(mounts: SensorMounts, container: ContainerHandle): Promise<TraceSource> {
  return 'bind' in mounts.traces ? { dir: mounts.traces.bind } : { archive: await container.getArchive(TRACE_DIR) };
}

/**
 * `snapshot`: the trace so far, read while the app still runs (from a bound dir only): each file
 * up to its last complete line.
 */
export async function readTraces(source: TraceSource, initialCwd: string, run: string, options: { snapshot?: boolean } = {}): Promise<TraceSummary> {
  const prefix = `${run}-`;
  const parser = new TraceParser({ initialCwd });
  const feed = (bytes: Buffer, start: number, end: number): void => parser.feedBytes(bytes, start, end);
  const ours = (name: string): boolean => name.startsWith(prefix) && name.endsWith('.log');
  const readFile = async (name: string, chunks: AsyncIterable<Buffer> | Iterable<Buffer>): Promise<void> => {
    parser.startFile({ source: name.slice(prefix.length) });
    const splitter = new LineSplitter();
    for await (const chunk of chunks) splitter.pushBytes(chunk, feed);
    splitter.endBytes(feed);
  };

  if ('dir' in source) {
    for (const name of mainFirst((await readdir(source.dir)).filter(ours))) {
      // O_NOFOLLOW: a link the app put there is not followed; O_NONBLOCK: nor is a FIFO waited on
      const file = await open(join(source.dir, name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => undefined);
      if (!file) continue;
      try {
        if (!(await file.stat()).isFile()) continue;
        if (options.snapshot) {
          const bytes = await file.readFile();
          await readFile(name, [bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1)]);
        } else await readFile(name, file.createReadStream({ autoClose: false, highWaterMark: 1 << 20 }));
      } finally {
        await file.close();
      }
    }
    return parser.summary();
  }

  const extract = tar.extract();
  const walk = (async () => {
    // main.log first: sort is not possible while streaming, and the archive lists it first anyway
    for await (const entry of extract) {
      const name = entry.header.name.split('/').pop()!;
      if (entry.header.type !== 'file' || !ours(name)) {
        entry.resume();
        continue;
      }
      await readFile(name, entry as AsyncIterable<Buffer>);
    }
  })();
  await Promise.all([pipeline(source.archive, extract as unknown as NodeJS.WritableStream), walk]);
  return parser.summary();
}

/** `<run>-main.log`, then `<run>-exec-1.log`, `-exec-2.log` ... in the order they ran. */
export function mainFirst(names: string[]): string[] {
  const rank = (name: string): number => (name.endsWith('-main.log') ? -1 : Number(/-exec-(\d+)\.log$/.exec(name)?.[1] ?? Number.MAX_SAFE_INTEGER));
  return [...names].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}
