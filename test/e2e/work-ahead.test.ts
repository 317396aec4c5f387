// Working ahead of the traced app's exit: the slim layer is made from the trace so far while the
// app shuts down, and kept only when the final trace keeps the same files. An app that reads a
// file only on its way out (SIGTERM) gets the layer made again, with that file, and the early
// image is removed; an app that reads nothing new keeps the early layer.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docker, imageId, removeImages, removeTestContainers, slimify, testSession } from './support.js';
import { buildImage, testTag } from './robustness-support.js';

const server = (onExit: string) =>
  [
    'import http.server, signal, sys, time',
    'class Handler(http.server.BaseHTTPRequestHandler):',
    '    def do_GET(self):',
    '        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")',
    'def stop(*_):',
    `    ${onExit}`,
    '    sys.exit(0)',
    'signal.signal(signal.SIGTERM, stop)',
    'http.server.HTTPServer(("", 8080), Handler).serve_forever()',
  ].join('\n');

const goodbye = testTag('goodbye');
const steady = testTag('steady');
const work = mkdtempSync(join(tmpdir(), 'slimify-ahead-test-'));
const outputs: string[] = [];

async function serverImage(tag: string, onExit: string): Promise<void> {
  const script = Buffer.from(server(onExit)).toString('base64');
  await buildImage(
    tag,
    [
      'FROM slimify-fixtures/base-python:bookworm',
      `RUN mkdir /srv/app && echo ${script} | base64 -d > /srv/app/server.py && echo goodbye > /srv/app/goodbye.txt`,
      'EXPOSE 8080',
      'CMD ["python3", "/srv/app/server.py"]',
    ].join('\n'),
  );
}

beforeAll(async () => {
  // a second first: the trace so far is read as the stop signal goes out, and must not see this
  await serverImage(goodbye, 'time.sleep(1); open("/srv/app/goodbye.txt").read()');
  await serverImage(steady, 'pass');
}, 180_000);

afterAll(async () => {
  await removeTestContainers();
  await removeImages(...outputs, goodbye, steady);
  rmSync(work, { recursive: true, force: true });
});

async function build(image: string) {
  const tag = `slimify-test/ahead-out:${testSession}-${outputs.length}`;
  outputs.push(tag);
  const report = join(work, `${outputs.length}.json`);
  const result = await slimify(['build', image, '--tag', tag, '--report', report, '--verbose']);
  expect(result.exitCode, result.all).toBe(0);
  return { output: result.all, report: JSON.parse(readFileSync(report, 'utf8')), tag };
}

/** Images the engine has that slimify made from `source` (its provenance label). */
async function slimImagesOf(source: string): Promise<string[]> {
  const id = await imageId(source);
  return (await docker(['images', '-q', '--no-trunc', '--filter', `label=slimify.source.id=${id}`])).split('\n').filter(Boolean);
}

describe("working ahead of the app's exit", () => {
  it('makes the layer again when the app reads a file on its way out, and removes the early image', async () => {
    const built = await build(goodbye);
    expect(built.output).toContain('the app touched more on its way out than the trace so far showed: the slim layer is made again');
    expect(built.report.kept['/srv/app/goodbye.txt']).toBeDefined();
    expect(built.report.verification.passed).toBe(true);
    expect(await slimImagesOf(goodbye)).toEqual([built.report.output.id]);
  }, 180_000);

  it('keeps the layer made ahead when the app reads nothing new on its way out', async () => {
    const built = await build(steady);
    expect(built.output).toContain("the slim layer made ahead of the app's exit holds the files of the final trace: it stays");
    expect(built.output.match(/^writing the slim layer into the engine as .* done in/gm)).toHaveLength(1);
    expect(await slimImagesOf(steady)).toEqual([built.report.output.id]);
  }, 180_000);
});
