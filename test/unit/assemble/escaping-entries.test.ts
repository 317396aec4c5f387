// Entries that escape the root never reach the index or the slim layer: `../` names and hardlinks
// whose target climbs out. Absolute names are read from the root, as docker reads them.
import { Readable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import tar from 'tar-stream';
import { indexFilesystem } from '../../../src/assemble/index-filesystem.js';
import { indexWithCopy, writeLayerFile } from './copy-support.js';

const work = mkdtempSync(join(tmpdir(), 'slimify-escape-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function hostile(): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: 'etc/passwd', mode: 0o644 }, 'root:x:0:0\n');
  pack.entry({ name: '../escape', mode: 0o644 }, 'out\n');
  pack.entry({ name: 'a/../../up', mode: 0o644 }, 'out\n');
  pack.entry({ name: '/absolute', mode: 0o644 }, 'in\n');
  pack.entry({ name: 'link-out', type: 'link', linkname: '../../etc/passwd' });
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('entries that escape the root', () => {
  it('are refused by the index and named', async () => {
    const result = await indexFilesystem(Readable.from([await hostile()]));
    expect(result.refused.sort()).toEqual(['../escape', 'a/../../up', 'link-out']);
    expect(result.index.get('/absolute')?.type).toBe('file');
    expect(result.index.get('/escape')).toBeUndefined();
  });

  it('never reach the slim layer, even when asked for', async () => {
    const keep = new Set(['/etc/passwd', '/escape', '/up', '/absolute', '/link-out']);
    const { indexed, copy } = await indexWithCopy(Readable.from([await hostile()]), work);
    const layer = await writeLayerFile({ index: indexed.index, headers: indexed.headers, content: (path) => copy.range(path) }, keep, join(work, 'layer.tar'), { clampMtime: new Date(0) });
    expect(layer.entries).toBe(2);
  });
});
