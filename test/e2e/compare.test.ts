// slimify compare on a fixture and its slim image: the figures match what the engine says
// (docker image inspect) and the regular-file counts match a docker export of each image.
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, removeImages, removeTestContainers, slimify, testLabels, testSession } from './support.js';

const original = 'slimify-fixtures/cli-tool:latest';
const slim = `slimify-test/cli-tool.slim:c${testSession}`;

interface Side {
  ref: string;
  size: number;
  layers: number;
  compressedLayerBytes: number;
  regularFiles: number;
}

/** Regular files in `docker export` of a created container, without /.dockerenv (docker adds it to every container). */
async function exportedRegularFiles(image: string): Promise<number> {
  const name = `slimify-test-export-${testSession}-${Math.random().toString(16).slice(2, 8)}`;
  await docker(['create', '--name', name, ...testLabels, '--entrypoint', '/none', image]);
  try {
    const listing = await execa('sh', ['-c', `docker export ${name} | tar -tvf -`]);
    return listing.stdout.split('\n').filter((line) => line.startsWith('-') && !line.endsWith(' .dockerenv')).length;
  } finally {
    await docker(['rm', '-f', name]);
  }
}

describe('slimify compare IMAGE IMAGE.slim', () => {
  let report: { a: Side; b: Side; ratio: number; filesystem: { directories: unknown[]; onlyInA: { count: number }; onlyInB: { count: number } }; config: Array<{ field: string }> };
  let text: string;

  beforeAll(async () => {
    const built = await slimify(['build', original, '--tag', slim]);
    if (built.exitCode !== 0) throw new Error(built.all);
    const json = await slimify(['compare', original, slim, '--json', '--top', '5']);
    expect(json.exitCode, json.all).toBe(0);
    report = JSON.parse(json.stdout) as typeof report;
    text = (await slimify(['compare', original, slim])).stdout;
  }, 300_000);

  afterAll(async () => {
    await removeTestContainers();
    await removeImages(slim);
  });

  it('reports the sizes and layer counts docker image inspect gives', async () => {
    for (const side of [report.a, report.b]) {
      const inspected = JSON.parse(await docker(['image', 'inspect', '--format', '{{json .}}', side.ref])) as { Size: number; RootFS: { Layers: string[] } };
      expect({ ref: side.ref, size: side.size, layers: side.layers }).toEqual({ ref: side.ref, size: inspected.Size, layers: inspected.RootFS.Layers.length });
    }
    expect(report.ratio).toBeCloseTo(report.a.size / report.b.size, 5);
  });

  it('counts the regular files a docker export of each image holds', async () => {
    expect(report.a.regularFiles).toBe(await exportedRegularFiles(original));
    expect(report.b.regularFiles).toBe(await exportedRegularFiles(slim));
  }, 120_000);

  it('gives compressed layer bytes smaller than the uncompressed size, the differing directories and the config labels slimify adds', () => {
    for (const side of [report.a, report.b]) {
      expect(side.compressedLayerBytes).toBeGreaterThan(0);
      expect(side.compressedLayerBytes).toBeLessThan(side.size);
    }
    expect(report.filesystem.directories.length).toBeGreaterThan(0);
    expect(report.filesystem.onlyInA.count).toBeGreaterThan(1000);
    expect(report.filesystem.onlyInB.count).toBe(0);
    expect(report.config.map((c) => c.field)).toContain('Labels.slimify.source.image');
    expect(text).toContain('compressed layers');
    expect(text).toContain('directories that account for the difference');
  });

  it('leaves no container behind', async () => {
    expect(await docker(['ps', '-aq', '--filter', `label=slimify.test.session=${testSession}`])).toBe('');
  });
});
