// The slimify side of `init --serve` (container-filesystem.ts): answers cut anywhere by the
// stream, refusals, and a server that stops or answers out of turn, against a scripted server.
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
  return { server, output, asked: () => Buffer.concat(asked), copy: () => readFileSync(copy), closed: () => closed };
}

/** Lets the stream deliver what was written. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('FileServer', () => {
  it('reads the listing, then each file into the copy, whatever the stream cuts', async () => {
    const whole = Buffer.concat([Buffer.from('5\nLIST\0'), Buffer.from('3\nabc'), Buffer.from('0\n'), Buffer.from('12\nhello\nworld\n')]);
    for (const size of [1, 2, 3, 7, whole.length]) {
      const { server, output, asked, copy } = scripted();
      const answers = [server.request(Buffer.from('/a')), server.request(Buffer.from('/empty')), server.request(Buffer.from('/caf\xe9', 'latin1'))];
      for (let at = 0; at < whole.length; at += size) output.write(whole.subarray(at, at + size));
      await settle();
      expect((await server.listing).toString()).toBe('LIST\0');
      expect(await Promise.all(answers)).toEqual([
        { start: 0, size: 3 },
        { start: 3, size: 0 },
        { start: 3, size: 12 },
      ]);
      expect(copy().toString()).toBe('abchello\nworld\n');
      expect(asked()).toEqual(Buffer.from('/a\0/empty\0/caf\xe9\0', 'latin1'));
    }
  });

  it('fails a refused request with the reason, and goes on with the next', async () => {
    const { server, output } = scripted();
    const gone = expect(server.request(Buffer.from('/gone'))).rejects.toThrow('reading /gone inside the container failed: No such file or directory');
    const next = server.request(Buffer.from('/next'));
    output.write('0\n!No such file or directory\n2\nok');
    await gone;
    expect(await next).toEqual({ start: 0, size: 2 });
  });

  it('fails what is still due when the server stops, with what it said, and every request after', async () => {
    const { server, output } = scripted();
    const cut = expect(server.request(Buffer.from('/cut'))).rejects.toThrow(/reading \/cut inside the container failed: slimify's file server in the container stopped: it ended \(slimify-init: oops\)/);
    output.write('0\n10\nabc');
    output.end();
    await cut;
    await expect(server.request(Buffer.from('/later'))).rejects.toThrow('it ended');
  });

  it('stops at an answer nobody asked for, or one that is not a size', async () => {
    const extra = scripted();
    extra.output.write('0\n0\n');
    await settle();
    await expect(extra.server.request(Buffer.from('/x'))).rejects.toThrow('it answered what was not asked: "0"');

    const garbled = scripted();
    const due = expect(garbled.server.request(Buffer.from('/y'))).rejects.toThrow('it answered "12abc" where a size was due');
    garbled.output.write('0\n12abc\n');
    await due;
  });

  it('fails the listing when the walk failed, and hangs up on close', async () => {
    const { server, output, closed } = scripted();
    output.write('!the walk of / failed\n');
    await settle();
    await expect(server.listing).rejects.toThrow('the walk of / failed');
    server.close();
    expect(closed()).toBe(true);
    await expect(server.request(Buffer.from('/z'))).rejects.toThrow('it was closed');
  });
});
