// fixtures/catalogue.json is read by other end-to-end tests; it must agree with the Dockerfiles
// it describes, or those tests probe the wrong port or the wrong image.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const fixturesDir = new URL('../../fixtures/', import.meta.url);

interface Entry {
  name: string;
  image: string;
  base: string;
  port: number | null;
  stopSignal: string | null;
  endpoints: { method: string; path: string; status: number; bodyContains: string }[];
  commands: { args: string[]; stdin: string; stdout: string; exitCode: number }[];
}

const catalogue = JSON.parse(readFileSync(new URL('catalogue.json', fixturesDir), 'utf8')) as {
  schemaVersion: number;
  fixtures: Entry[];
};

/** The value of the first Dockerfile instruction with this keyword, or null. */
function instruction(dockerfile: string, keyword: string): string | null {
  const line = dockerfile.split('\n').find((l) => l.trim().toUpperCase().startsWith(`${keyword} `));
  return line === undefined ? null : line.trim().slice(keyword.length + 1).trim();
}

describe('fixtures/catalogue.json', () => {
  it('lists every fixture directory that has a Dockerfile, once', () => {
    const dirs = readdirSync(fixturesDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(new URL(`${d.name}/Dockerfile`, fixturesDir)))
      .map((d) => d.name)
      .sort();
    expect(catalogue.fixtures.map((f) => f.name).sort()).toEqual(dirs);
  });

  for (const entry of catalogue.fixtures) {
    describe(entry.name, () => {
      const dockerfile = readFileSync(new URL(`${entry.name}/Dockerfile`, fixturesDir), 'utf8');

      it('names the image build-fixtures tags', () => {
        expect(entry.image).toBe(`slimify-fixtures/${entry.name}:latest`);
      });

      it('names the base its Dockerfile starts FROM', () => {
        expect(instruction(dockerfile, 'FROM')).toBe(entry.base);
      });

      it('publishes the port its Dockerfile exposes', () => {
        const exposed = instruction(dockerfile, 'EXPOSE');
        expect(exposed === null ? null : Number(exposed)).toBe(entry.port);
      });

      it('records the stop signal its Dockerfile sets', () => {
        expect(instruction(dockerfile, 'STOPSIGNAL')).toBe(entry.stopSignal);
      });

      it('has something to probe: endpoints for a server, commands for a CLI', () => {
        if (entry.port === null) {
          expect(entry.endpoints).toEqual([]);
          expect(entry.commands.length).toBeGreaterThan(0);
        } else {
          expect(entry.commands).toEqual([]);
          expect(entry.endpoints.length).toBeGreaterThan(0);
          for (const e of entry.endpoints) {
            expect(e.path.startsWith('/')).toBe(true);
            expect(e.bodyContains).not.toBe('');
          }
        }
      });
    });
  }
});
