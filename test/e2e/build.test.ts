// slimify build on every HTTP fixture, end to end on the real engine: the slim image answers
// every catalogued endpoint as the original does, keeps the original's config, is much smaller,
// and nothing is left behind.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Fixture, ask, askUntilExpected, catalogue, docker, engineObjects, imageId, inspectConfig, probeFileFor,
  removeImages, removeTestContainers, slimify, startServer, testSession,
} from './support.js';

const work = mkdtempSync(join(tmpdir(), 'slimify-build-test-'));
const CONFIG_FIELDS = ['Entrypoint', 'Cmd', 'Env', 'User', 'WorkingDir', 'ExposedPorts', 'Volumes', 'StopSignal', 'Healthcheck', 'Shell', 'OnBuild'];

afterAll(async () => {
  await removeTestContainers();
  rmSync(work, { recursive: true, force: true });
});

interface Built {
  tag: string;
  report: {
    source: { size: number };
    output: { size: number; id: string; layerDigest: string };
    ratio: number;
    verification?: { passed: boolean };
    kept: Record<string, string[]>;
  };
}

async function buildFixture(f: Fixture, ...extra: string[]): Promise<Built> {
  const tag = `slimify-test/${f.name}.slim:${testSession}`;
  const probes = join(work, `${f.name}-probes.json`);
  writeFileSync(probes, probeFileFor(f));
  const reportFile = join(work, `${f.name}-report.json`);
  const result = await slimify(['build', f.image, '--tag', tag, '--http-probe-file', probes, '--report', reportFile, ...extra]);
  if (result.exitCode !== 0) throw new Error(`slimify build ${f.image} failed (${result.exitCode}):\n${result.all}`);
  return { tag, report: JSON.parse(readFileSync(reportFile, 'utf8')) as Built['report'] };
}

for (const f of catalogue.fixtures.filter((x) => x.port !== null)) {
  describe(`slimify build ${f.name}`, () => {
    let built: Built;
    let originalId: string | undefined;
    let before: Awaited<ReturnType<typeof engineObjects>>;

    beforeAll(async () => {
      originalId = await imageId(f.image);
      before = await engineObjects();
      built = await buildFixture(f);
    }, 300_000);

    afterAll(async () => {
      await removeTestContainers();
      if (built) await removeImages(built.tag);
    });

    it('verifies the slim image against the original', () => {
      expect(built.report.verification?.passed).toBe(true);
    });

    it('answers every endpoint with the same status and body as the original', async () => {
      const original = await startServer(f.image, f.port!, `${f.name}-orig`);
      const slim = await startServer(built.tag, f.port!, `${f.name}-slim`);
      for (const endpoint of f.endpoints) {
        const want = await askUntilExpected(original.port, endpoint);
        const got = await askUntilExpected(slim.port, endpoint);
        if (got instanceof Error) {
          const logs = await docker(['logs', '--tail', '20', slim.name]).catch((e: Error) => e.message);
          expect.fail(`${endpoint.method} ${endpoint.path} on the slim image: ${got.message}\n${logs}`);
        }
        expect(want).not.toBeInstanceOf(Error);
        expect({ path: endpoint.path, status: got.status, body: got.body }).toEqual({ path: endpoint.path, status: (want as typeof got).status, body: (want as typeof got).body });
      }
      // a second request of the same page gives the same answer (the server keeps working)
      const again = await ask(slim.port, f.endpoints[0]!);
      expect(again.status).toBe(f.endpoints[0]!.status);
    });

    it("keeps the original's config field by field, plus provenance labels", async () => {
      const original = await inspectConfig(f.image);
      const slim = await inspectConfig(built.tag);
      for (const field of CONFIG_FIELDS) expect({ field, value: slim[field] ?? null }).toEqual({ field, value: original[field] ?? null });
      const labels = (slim.Labels ?? {}) as Record<string, string>;
      expect(labels).toMatchObject((original.Labels ?? {}) as Record<string, string>);
      expect(labels['slimify.source.image']).toBe(f.image);
      expect(labels['slimify.source.id']).toBe(originalId);
    });

    it('is smaller than the original, as the engine measures it', async () => {
      const sizes = JSON.parse(await docker(['image', 'inspect', '--format', '{{json .Size}}', built.tag])) as number;
      expect(sizes).toBe(built.report.output.size);
      expect(built.report.output.size).toBeLessThan(built.report.source.size / 2);
    });

    it('leaves the original unchanged and nothing on the engine', async () => {
      expect(await imageId(f.image)).toBe(originalId);
      await removeTestContainers();
      const after = await engineObjects();
      expect(after.volumes).toEqual(before.volumes);
      expect(after.containers.filter((c) => !before.containers.includes(c))).toEqual([]);
      expect(await docker(['ps', '-aq', '--filter', 'label=slimify.owner'])).toBe('');
    });
  });
}

describe('fixture-specific guarantees', () => {
  const tags: string[] = [];
  afterAll(async () => {
    await removeTestContainers();
    await removeImages(...tags);
  });

  it('makes nginx at least 8 times smaller', async () => {
    const built = await buildFixture(catalogue.fixtures.find((x) => x.name === 'nginx')!);
    tags.push(built.tag);
    expect(built.report.ratio).toBeGreaterThanOrEqual(8);
  }, 300_000);

  it('keeps little more than the binary for static-bin (under 2 MB)', async () => {
    const built = await buildFixture(catalogue.fixtures.find((x) => x.name === 'static-bin')!);
    tags.push(built.tag);
    expect(built.report.output.size).toBeLessThan(2_000_000);
  }, 300_000);

  it('gives the same layer digest and image id when the same input is built twice', async () => {
    const f = catalogue.fixtures.find((x) => x.name === 'static-bin')!;
    const first = await buildFixture(f, '--force');
    const second = await buildFixture(f, '--force');
    tags.push(first.tag);
    expect(second.report.output.layerDigest).toBe(first.report.output.layerDigest);
    expect(second.report.output.id).toBe(first.report.output.id);
  }, 300_000);

  it('keeps owners and modes of the non-root app', async () => {
    const built = await buildFixture(catalogue.fixtures.find((x) => x.name === 'non-root')!);
    tags.push(built.tag);
    const listing = async (image: string) =>
      docker(['run', '--rm', '--label', 'slimify.test=1', '--label', `slimify.test.session=${testSession}`, '--entrypoint', '/usr/bin/python3', image, '-c',
        'import os,sys\nfor p in ["/app", "/app/data"]:\n  s=os.stat(p); print(p, oct(s.st_mode), s.st_uid, s.st_gid)']);
    expect(await listing(built.tag)).toBe(await listing('slimify-fixtures/non-root:latest'));
  }, 300_000);

  it('keeps the shell and every tool the shell entrypoint runs', async () => {
    const built = await buildFixture(catalogue.fixtures.find((x) => x.name === 'shell-entrypoint')!);
    tags.push(built.tag);
    const kept = Object.keys(built.report.kept);
    for (const tool of ['/usr/bin/dash', '/usr/bin/sed', '/usr/bin/cat', '/usr/bin/mkdir']) expect(kept).toContain(tool);
  }, 300_000);
});
