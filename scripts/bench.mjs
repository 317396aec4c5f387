#!/usr/bin/env node
// The slimify benchmark (issue 7): how small, how fast and how frugal `slimify build` is on every
// fixture, against the unavoidable floor measured in the same run; a large synthetic image for
// memory at scale; the trace parser's throughput. Run through `scripts/bench` after setup.
//
//   scripts/bench [--no-scale] [--only name,name] [--parser-lines MILLIONS] [--out DIR]
//   scripts/bench --render bench/results/latest.json   (re-renders the Markdown of a past run)
//
// Writes DIR/latest.json and DIR/latest.md (default bench/results) and prints the Markdown.
// Everything it creates (images, containers, temp files) is removed whatever happens.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  docker, gzippedSaveSize, imageExists, imageSize, machineFacts, pipeline, removeImages, removeSessionContainers, session,
} from '../bench/lib/engine.mjs';
import { timeExport, timeLoad, timeUntracedProbes } from '../bench/lib/floor.mjs';
import { runParserBench } from '../bench/lib/parser-bench.mjs';
import { STAGES, renderMarkdown } from '../bench/lib/render.mjs';
import { SCALE_SHAPE, buildScaleImage, freeBytes } from '../bench/lib/scale-image.mjs';
import { runSlimify } from '../bench/lib/slimify-run.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const TARGETS = { overhead: 1.5, scaleRssBytes: 300e6, linesPerSecond: 500_000 };
const SCALE_FREE_BYTES = 12e9;

const { values: opts } = parseArgs({
  options: {
    scale: { type: 'boolean', default: true },
    'no-scale': { type: 'boolean', default: false },
    only: { type: 'string' },
    'parser-lines': { type: 'string', default: '3' },
    out: { type: 'string', default: join(ROOT, 'bench/results') },
    render: { type: 'string' },
  },
});
if (opts.render !== undefined) {
  process.stdout.write(renderMarkdown(JSON.parse(readFileSync(opts.render, 'utf8'))));
  process.exit(0);
}
const scaleOn = opts.scale && !opts['no-scale'];
const parserMillions = Number(opts['parser-lines']);
if (!(parserMillions > 0)) throw new Error(`--parser-lines must be a positive number of millions, got ${opts['parser-lines']}`);

const log = (msg) => process.stderr.write(`bench: ${msg}\n`);
const work = mkdtempSync(join(tmpdir(), 'slimify-bench-'));
const createdImages = new Set();
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  await removeSessionContainers();
  await removeImages(...createdImages);
  rmSync(work, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    log(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

try {
  await main();
} finally {
  await cleanup();
}

async function main() {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/cli/main.js is missing: run `bash scripts/setup.sh` (or `npm run build`) first');
  const catalogue = JSON.parse(readFileSync(join(ROOT, 'fixtures/catalogue.json'), 'utf8'));
  const only = opts.only?.split(',');
  const fixtures = catalogue.fixtures.filter((f) => !only || only.includes(f.name));
  for (const f of fixtures) {
    if (!(await imageExists(f.image))) throw new Error(`fixture image ${f.image} is missing: run \`bash scripts/setup.sh\` first`);
  }
  const facts = await machineFacts();
  log(`session ${session}, ${facts.cores} cores, ${facts.engine}`);

  const results = [];
  for (const f of fixtures) results.push(await measure(f));

  let scale;
  if (scaleOn) scale = await measureScale(catalogue, results);

  const parser = [];
  log(`parser: ${parserMillions} million synthetic lines`);
  parser.push(await runParserBench(parserMillions, false));
  log(`parser: ${parserMillions} million lines replayed from the real samples`);
  parser.push(await runParserBench(parserMillions, true));

  const command = ['scripts/bench', ...process.argv.slice(2)].join(' ');
  const run = { schemaVersion: 1, command, session, facts, results, scale, parser: parser.map(({ output, ...p }) => p) };
  run.targets = targets(run);
  mkdirSync(opts.out, { recursive: true });
  const markdown = renderMarkdown(run);
  writeFileSync(join(opts.out, 'latest.json'), JSON.stringify(run, null, 2) + '\n');
  writeFileSync(join(opts.out, 'latest.md'), markdown);
  process.stdout.write(markdown);
}

/** One image: floor first (export, untraced probes), then slimify, then the slim image's load. */
async function measure(f) {
  const r = { name: f.name, image: f.image };
  try {
    log(`${f.name}: sizes of the original`);
    r.original = { size: await imageSize(f.image), gzip: await gzippedSaveSize(f.image) };
    log(`${f.name}: floor: export`);
    const exported = await timeExport(f.image);
    log(`${f.name}: floor: untraced run and probes`);
    const probes = await timeUntracedProbes(f);

    const tag = `slimify-bench/${f.name}:${session}-slim`;
    createdImages.add(tag);
    log(`${f.name}: slimify build`);
    // other work on a shared machine skews every time below; the load average makes it visible
    r.loadAverage1m = Number(loadavg()[0].toFixed(2));
    const run = await runSlimify(f, tag, work);
    Object.assign(r, { command: run.command, exitCode: run.exitCode, wallMs: run.wallMs, gnuTimeMaxRssBytes: run.gnuTimeMaxRssBytes });
    if (!run.report) throw new Error(`slimify build exited ${run.exitCode} without a report: ${run.log.split('\n').slice(-5).join(' / ')}`);
    r.report = { totalMs: run.report.totalMs, outputId: run.report.output?.id, layerDigest: run.report.output?.layerDigest };
    r.stages = Object.fromEntries(run.report.stages.map((st) => [st.stage, st.ms]));
    r.stagesCoveredMs = coveredMs(run.report.stages);
    r.slowestStage = STAGES.filter((st) => r.stages[st] != null).sort((a, b) => r.stages[b] - r.stages[a])[0];
    r.files = { original: run.report.files.original, kept: run.report.files.kept, entriesKept: run.report.files.entriesKept };
    r.ratio = run.report.ratio;
    r.verified = run.report.verification?.passed === true;
    r.peakRssBytes = run.report.peakRssBytes;
    r.ready = { untracedMs: probes.firstAnswerMs, tracedMs: run.report.readyMs?.traced ?? null, slimMs: run.report.readyMs?.slim ?? null };
    if (run.exitCode !== 0) r.error = `slimify build exited ${run.exitCode}`;

    log(`${f.name}: slim image: size, save, load`);
    const tarball = join(work, `${f.name}.slim.tar`);
    r.slim = { size: await imageSize(tag) };
    await docker(['save', '-o', tarball, tag]);
    r.slim.gzip = Number(await pipeline('gzip -c < "$1" | wc -c', tarball));
    await removeImages(tag);
    const loaded = await timeLoad(tarball);
    rmSync(tarball);
    await removeImages(tag);

    r.floor = { exportMs: exported.ms, exportBytes: exported.bytes, loadMs: loaded.ms, probesMs: probes.allAnsweredMs };
    r.floor.totalMs = r.floor.exportMs + r.floor.loadMs + r.floor.probesMs;
    r.overhead = r.wallMs / r.floor.totalMs;
    // a tool that checks its result runs the app twice: the same floor with one more untraced run
    r.floor.withSecondRunMs = r.floor.totalMs + r.floor.probesMs;
    r.overheadWithSecondRun = r.wallMs / r.floor.withSecondRunMs;
    log(`${f.name}: ${(r.wallMs / 1000).toFixed(1)} s, floor ${(r.floor.totalMs / 1000).toFixed(1)} s, overhead ${r.overhead.toFixed(2)}x, verified ${r.verified}`);
  } catch (error) {
    r.error = error.message;
    log(`${f.name}: ${error.message}`);
  }
  return r;
}

async function measureScale(catalogue, results) {
  const small = results.find((r) => r.name === 'static-bin') ?? (await measure(catalogue.fixtures.find((f) => f.name === 'static-bin')));
  const free = await freeBytes(work);
  if (Math.min(free.tmp, free.engine) < SCALE_FREE_BYTES) {
    const skipped = `not enough free disk (${(free.tmp / 1e9).toFixed(1)} GB in ${tmpdir()}, ${(free.engine / 1e9).toFixed(1)} GB in ${free.engineRoot}; ` +
      `${SCALE_FREE_BYTES / 1e9} GB needed)`;
    log(`scale: skipped: ${skipped}`);
    return { skipped };
  }
  const tag = `slimify-bench/large:${session}`;
  createdImages.add(tag);
  log(`scale: generating and building ${tag} (${(free.tmp / 1e9).toFixed(0)} GB free)`);
  const generated = await buildScaleImage(tag, work, log);
  const staticBin = catalogue.fixtures.find((f) => f.name === 'static-bin');
  const large = await measure({ ...staticBin, name: 'large-2g', image: tag });
  await removeImages(tag);
  return { shape: SCALE_SHAPE, generated, small, large };
}

function targets(run) {
  const out = [];
  const measured = run.results.filter((r) => r.overhead != null);
  if (run.scale?.large?.overhead != null) measured.push(run.scale.large);
  const worst = measured.reduce((w, r) => (w === undefined || r.overhead > w.overhead ? r : w), undefined);
  if (worst) {
    const misses = measured.filter((r) => r.overhead > TARGETS.overhead);
    out.push({
      target: `overhead over the floor ≤ ${TARGETS.overhead}x on every image`,
      measured: `worst ${worst.overhead.toFixed(2)}x (${worst.name}); ${misses.length} of ${measured.length} above`,
      met: misses.length === 0,
      by: `${(worst.overhead / TARGETS.overhead).toFixed(1)}x over the target on ${worst.name}`,
    });
  }
  const large = run.scale?.large;
  if (large?.peakRssBytes) {
    const met = large.peakRssBytes < TARGETS.scaleRssBytes;
    out.push({
      target: 'peak memory < 300 MB on the 2 GB image',
      measured: `${(large.peakRssBytes / 1e6).toFixed(0)} MB (small image: ${(run.scale.small.peakRssBytes / 1e6).toFixed(0)} MB)`,
      met,
      by: `${((large.peakRssBytes - TARGETS.scaleRssBytes) / 1e6).toFixed(0)} MB over`,
    });
  }
  for (const p of run.parser) {
    if (p.linesPerCpuSecond == null) continue;
    out.push({
      target: `trace parsing ≥ ${TARGETS.linesPerSecond.toLocaleString('en-US')} lines/s on one core (${p.input})`,
      measured: `${p.linesPerCpuSecond.toLocaleString('en-US')} lines per CPU second`,
      met: p.linesPerCpuSecond >= TARGETS.linesPerSecond,
      by: `${(TARGETS.linesPerSecond / p.linesPerCpuSecond).toFixed(1)}x too slow`,
    });
  }
  return out;
}

/** Milliseconds covered by at least one stage (stages overlap: the index runs during the trace). */
function coveredMs(stages) {
  const spans = stages.map((st) => [st.startMs ?? 0, (st.startMs ?? 0) + st.ms]).sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let reach = -Infinity;
  for (const [start, end] of spans) {
    if (end <= reach) continue;
    covered += end - Math.max(start, reach);
    reach = end;
  }
  return covered;
}
