import { describe, expect, it } from 'vitest';
import { type HttpProbe, type ProbeOutcome, DEFAULT_STATUS } from '../../../src/probes/probe.js';
import { compareOutcomes } from '../../../src/verify/compare-outcomes.js';

const probe = (path: string, statusOnly = false): HttpProbe => ({ kind: 'http', name: `GET ${path}`, port: 80, method: 'GET', path, headers: {}, expect: { status: DEFAULT_STATUS }, statusOnly, timeoutMs: 1000, retries: 0, isDefault: false });
const answer = (name: string, status: number, digest: string, crawled = false): ProbeOutcome => ({ name, kind: 'http', ok: status < 500, durationMs: 1, status, bodyDigest: `sha256:${digest}`, ...(crawled ? { crawled } : {}) });

describe('compareOutcomes', () => {
  it('finds a body that differs, unless the probe compares status only', () => {
    const probes = [probe('/a'), probe('/time', true)];
    const result = compareOutcomes(probes, [answer('GET /a', 200, 'aa'), answer('GET /time', 200, 't1')], [answer('GET /a', 200, 'ab'), answer('GET /time', 200, 't2')]);
    expect(result.map((c) => c.same)).toEqual([false, true]);
    expect(result[0]!.why).toMatch(/body differs/);
  });

  it('matches crawled pages by name, and a page only one image led to is a difference', () => {
    const probes = [probe('/')];
    const original = [answer('GET /', 200, 'r'), answer('GET /x.css (crawled)', 200, 'x', true), answer('GET /y.png (crawled)', 200, 'y', true)];
    const slim = [answer('GET /', 200, 'r'), answer('GET /y.png (crawled)', 200, 'y', true)];
    const result = compareOutcomes(probes, original, slim);
    expect(result.map((c) => [c.name, c.same])).toEqual([
      ['GET /', true],
      ['GET /x.css (crawled)', false],
      ['GET /y.png (crawled)', true],
    ]);
  });

  it('reports a probe that failed only on the slim image', () => {
    const result = compareOutcomes([probe('/')], [answer('GET /', 200, 'r')], [{ name: 'GET /', kind: 'http', ok: false, durationMs: 1, error: 'socket hang up' }]);
    expect(result[0]).toMatchObject({ same: false, why: 'socket hang up' });
  });
});

describe('compareOutcomes on commands', () => {
  const exec = (isHealthcheck: boolean) => ({ kind: 'exec' as const, name: 'exec: date', command: ['date'], shell: true, timeoutMs: 1000, isHealthcheck });
  const ran = (output: string): ProbeOutcome => ({ name: 'exec: date', kind: 'exec', ok: true, durationMs: 1, exitCode: 0, output });

  it('compares the exit code of a command, not its output (ls of a slimmed directory differs by design)', () => {
    expect(compareOutcomes([exec(false)], [ran('a\nb\nc\n')], [ran('a\n')])[0]!.same).toBe(true);
    const failed: ProbeOutcome = { ...ran(''), ok: false, exitCode: 127, error: 'exited with 127' };
    expect(compareOutcomes([exec(true)], [ran('ok')], [failed])[0]).toMatchObject({ same: false });
  });
});
