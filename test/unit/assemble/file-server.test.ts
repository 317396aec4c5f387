// The slimify side of `init --serve` (container-filesystem.ts): answers cut anywhere by the
// stream, ranges in memory and whole files at their place in the copy, refusals, answers of
// the wrong size, and a server that stops or answers out of turn, against a scripted server.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { FileServer } from '../../../src/assemble/container-filesystem.js';
import { ExportWriter } from '../../../src/assemble/export-copy.js';

const dir = mkdtempSync(join(tmpdir(), 'slimify-file-server-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** A FileServer whose process is scripted: what it was asked, and a way to send its output. */
function scripted() {
  const input = new PassThrough();
  const output = new PassThrough();
  const asked: Buffer[] = [];
  input.on('data', (chunk: Buffer) => asked.push(chunk));
  const copy = join(dir, `copy-${files++}`);
  let closed = false;
  const server = new FileServer({ input, output, errors: () => 'slimify-init: oops', close: () => (closed = true) }, new ExportWriter(copy));
  return { server, output, asked: () => Buffer.concat(asked).toString('latin1'), copy: () => readFileSync(copy), closed: () => closed };
}

describe('FileServer', () => {
  it('reads the listing, then ranges into memory and files into their place in the copy, whatever the stream cuts', async () => {
    const whole = Buffer.from('5\nLIST\x003\nabc4\nELF!12\nhello\nworld\n');
    for (const size of [1, 2, 3, 7, whole.length]) {
      const { server, output, asked, copy } = scripted();
      const a = server.copy(Buffer.from('/a'), 3);
      const head = server.read(Buffer.from('/lib.so'), 4096, 4);
      const empty = server.read(Buffer.from('/empty'), 0, 0);
      const cafe = server.copy(Buffer.from('/caf\xe9', 'latin1'), 12);
      // places are known when the files are asked for, before they come
      expect([a.start, cafe.start]).toEqual([0, 3]);
      for (let at = 0; at < whole.length; at += size) output.write(whole.subarray(at, at + size));
      expect((await server.listing).toString()).toBe('LIST\0');
      await Promise.all([a.done, cafe.done]);
      expect((await head).toString()).toBe('ELF!');
      expect((await empty).length).toBe(0);
      expect(copy().toString()).toBe('abchello\nworld\n');
      // an empty range is not asked for
      expect(asked()).toBe('/a\x000 -1\x00/lib.so\x004096 4\x00/caf\xe9\x000 -1\x00');
    }
  });

  it('fails a refused request, or an answer of another size than the listing said, and goes on with the next', async () => {
    const { server, output, copy } = scripted();
    const gone = expect(server.copy(Buffer.from('/gone'), 5).done).rejects.toThrow('reading /gone inside the container failed: No such file or directory');
    const changed = expect(server.copy(Buffer.from('/changed'), 2).done).rejects.toThrow('reading /changed inside the container failed: it sent 3 bytes, where the listing said 2');
    const next = server.copy(Buffer.from('/next'), 2);
    output.write('0\n!No such file or directory\n3\nxyz2\nok');
    await Promise.all([gone, changed, next.done]);
    // the next file's place is after the room given to the two that failed, which stays empty
    expect(next.start).toBe(7);
    expect(copy().subarray(7).toString()).toBe('ok');
    expect(copy().subarray(0, 7)).toEqual(Buffer.alloc(7));
  });

  it('fails what is still due when the server stops, with what it said, and every request after', async () => {
    const { server, output } = scripted();
    const cut = expect(server.read(Buffer.from('/cut'), 0, 10)).rejects.toThrow(/reading \/cut inside the container failed: slimify's file server in the container stopped: it ended \(slimify-init: oops\)/);
    output.write('0\n10\nabc');
    output.end();
    await cut;
    await expect(server.copy(Buffer.from('/later'), 1).done).rejects.toThrow('it ended');
  });

  it('stops at an answer nobody asked for, or one that is not a size', async () => {
    const extra = scripted();
    extra.output.write('0\n0\n');
    await new Promise((resolve) => setImmediate(resolve));
    await expect(extra.server.read(Buffer.from('/x'), 0, 1)).rejects.toThrow('it answered what was not asked: "0"');

    const garbled = scripted();
    const due = expect(garbled.server.read(Buffer.from('/y'), 0, 12)).rejects.toThrow('it answered "12abc" where a size was due');
    garbled.output.write('0\n12abc\n');
    await due;
  });

  it('fails the listing when the walk failed, and hangs up on close', async () => {
    const { server, output, closed } = scripted();
    const listing = expect(server.listing).rejects.toThrow('the walk of / failed');
    output.write('!the walk of / failed\n');
    await listing;
    server.close();
    expect(closed()).toBe(true);
    await expect(server.read(Buffer.from('/z'), 0, 1)).rejects.toThrow('it was closed');
  });
});
