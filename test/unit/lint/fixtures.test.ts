// Every fixture under fixtures/lint is a Dockerfile (with its .dockerignore when the case needs
// one) and expected.json, the findings as "RULE:line". Bad fixtures name what a rule must catch,
// good ones prove the rule stays quiet on the fix.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintDockerfile } from '../../../src/lint/lint.js';

const root = join(import.meta.dirname, '../../../fixtures/lint');

function lintFixture(name: string): string[] {
  const dir = join(root, name);
  const dockerignore = existsSync(join(dir, '.dockerignore')) ? readFileSync(join(dir, '.dockerignore'), 'utf8') : undefined;
  const contextEntries = readdirSync(dir);
  const findings = lintDockerfile(readFileSync(join(dir, 'Dockerfile'), 'utf8'), { file: 'Dockerfile', build: { dockerignore, contextEntries } });
  return findings.map((f) => `${f.rule}:${f.line}`);
}

describe('lint fixtures', () => {
  for (const name of readdirSync(root).sort()) {
    it(`${name} gives exactly the expected findings`, () => {
      const expected = JSON.parse(readFileSync(join(root, name, 'expected.json'), 'utf8')) as string[];
      expect(lintFixture(name)).toEqual(expected);
    });
  }

  it('reports every mistake of the usual image-size guide example', () => {
    const rules = new Set(lintFixture('guide-bad').map((f) => f.split(':')[0]));
    // latest base, full OS base, apt without cleanup / recommends, ADD, no multi-stage, no .dockerignore, COPY of the whole context
    for (const rule of ['DL3007', 'SL1001', 'DL3009', 'DL3015', 'DL3020', 'SL1002', 'SL1003', 'SL1006', 'DL3042', 'DL3059']) expect(rules).toContain(rule);
  });
});
