/**
 * Reads the trace files of one run out of the finished traced container (one tar stream of the
 * trace volume, from the archive API) and feeds them, line by line, to the trace parser. Only
 * regular files named after the run are read: the app could have replaced a trace file with a
 * link, and links are never followed.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-stream';
import { LineSplitter } from '../trace/line-splitter.js';
import { TraceParser } from '../trace/trace-parser.js';
import type { TraceSummary } from '../trace/trace-summary.js';

export async function readTraces(archive: Readable, initialCwd: string, run: string): Promise<TraceSummary> {
  const prefix = `${run}-`;
  const parser = new TraceParser({ initialCwd });
  const feed = (bytes: Buffer, start: number, end: number): void => parser.feedBytes(bytes, start, end);
  const extract = tar.extract();
  const walk = (async () => {
    // main.log first: sort is not possible while streaming, and the archive lists it first anyway
    for await (const entry of extract) {
      const name = entry.header.name.split('/').pop()!;
      if (entry.header.type !== 'file' || !name.startsWith(prefix) || !name.endsWith('.log')) {
        entry.resume();
        continue;
      }
      parser.startFile({ source: name.slice(prefix.length) });
      const splitter = new LineSplitter();
      for await (const chunk of entry as AsyncIterable<Buffer>) splitter.pushBytes(chunk, feed);
      splitter.endBytes(feed);
    }
  })();
  await Promise.all([pipeline(archive, extract as unknown as NodeJS.WritableStream), walk]);
  return parser.summary();
}
