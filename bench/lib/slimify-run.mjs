// One `slimify build` of an image as a user would run it (the built CLI, verification on, a probe
// file of every catalogued endpoint), timed from outside and, when GNU time is installed, under
// `/usr/bin/time -v` so the report's own peakRssBytes can be cross-checked.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { timed } from './engine.mjs';

const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const GNU_TIME = '/usr/bin/time';

/** A docker-slim style probe file calling every catalogued endpoint (as test/e2e/support.ts does). */
export function probeFileFor(fixture) {
  return JSON.stringify({
    commands: fixture.endpoints.map((e) => ({
      method: e.method,
      resource: e.path,
      port: fixture.port,
      headers: Object.entries(e.headers ?? {}).map(([k, v]) => `${k}: ${v}`),
      body: e.body,
      expect_status: e.status,
    })),
  });
}

export function slimifyCommand(fixture, tag, reportFile, probeFile) {
  const args = [CLI, 'build', fixture.image, '--tag', tag, '--force', '--report', reportFile, '--json'];
  if (probeFile !== undefined) args.push('--http-probe-file', probeFile);
  return args;
}

/** `env`: added to the build's environment (SLIMIFY_READ=export for the export way). */
export async function runSlimify(fixture, tag, work, env = {}) {
  const reportFile = join(work, `${fixture.name}.report.json`);
  const timeFile = join(work, `${fixture.name}.time.txt`);
  let probeFile;
  if (fixture.endpoints.length > 0) {
    probeFile = join(work, `${fixture.name}.probes.json`);
    writeFileSync(probeFile, probeFileFor(fixture));
  }
  const args = slimifyCommand(fixture, tag, reportFile, probeFile);
  const withTime = existsSync(GNU_TIME);
  const [file, argv] = withTime ? [GNU_TIME, ['-v', '-o', timeFile, process.execPath, ...args]] : [process.execPath, args];
  const { ms, result } = await timed(() => execa(file, argv, { reject: false, all: true, env: { CI: 'true', ...env } }));
  const report = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, 'utf8')) : undefined;
  return {
    command: ['node', 'dist/cli/main.js', ...args.slice(1)].join(' '),
    exitCode: result.exitCode,
    wallMs: ms,
    report,
    gnuTimeMaxRssBytes: withTime ? maxRss(timeFile) : null,
    log: result.all,
  };
}

/** "Maximum resident set size (kbytes): N" from `time -v`. */
function maxRss(timeFile) {
  if (!existsSync(timeFile)) return null;
  const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeFile, 'utf8'));
  return match ? Number(match[1]) * 1024 : null;
}
