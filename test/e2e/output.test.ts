// Where slimify writes what: results on stdout, progress on stderr, one line per stage when
// stderr is not a terminal; --quiet keeps stderr empty, --verbose shows every engine call.
import { afterAll, describe, expect, it } from 'vitest';
import { removeImages, removeTestContainers, slimify, testSession } from './support.js';

const tag = `slimify-test/output.slim:${testSession}`;
const build = (...flags: string[]) => slimify(['build', 'slimify-fixtures/static-bin:latest', '--tag', tag, '--force', ...flags]);

afterAll(async () => {
  await removeTestContainers();
  await removeImages(tag);
});

describe('output', () => {
  it('prints the report on stdout and one start and one done line per stage on stderr', async () => {
    const r = await build();
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/x smaller/);
    expect(r.stdout).not.toMatch(/ done in /);
    for (const stage of ['preparing the sensor', 'tracing the app while probes run', 'reading the image filesystem', 'planning the slim layer', `writing the slim layer into the engine as ${tag}`, 'verifying the slim image']) {
      expect(r.stderr.split('\n').filter((l) => l === `${stage} ...`)).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^${stage} done in \\d+\\.\\ds`, 'm'));
    }
    expect(r.stderr).not.toMatch(/\r|\x1b\[/);
  }, 120_000);

  it('keeps stderr empty with --quiet, and the report still on stdout', async () => {
    const r = await build('--quiet');
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/x smaller/);
  }, 120_000);

  it('shows the engine calls with --verbose', async () => {
    const r = await build('--verbose', '--json');
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toMatch(/^debug: engine: ping$/m);
    expect(r.stderr).toMatch(/^debug: engine: create container from sha256:/m);
    const report = JSON.parse(r.stdout);
    expect(report.output.tag).toBe(tag);
    // as root with this machine's engine the image is read where the engine mounts it; else exported, and the log says why
    if (process.getuid?.() === 0 && !process.env.DOCKER_HOST) expect(report.filesystem).toEqual({ via: 'mount' });
    else expect(r.stderr).toMatch(/^debug: reading the image filesystem through docker export: /m);
  }, 120_000);
});
