#!/usr/bin/env node
// The slimify benchmark (issue 7): how small, how fast and how frugal `slimify build` is on every
// fixture, against the unavoidable floor measured in the same run; a large synthetic image for
// memory at scale; the trace parser's throughput. Run through `scripts/bench` after setup.
//
//   scripts/bench [--no-scale] [--only name,name] [--runs N] [--parser-lines MILLIONS] [--out DIR]
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
import { OTHER_WAYS, coveredMs, summariseRounds, targets } from '../bench/lib/summary.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const SCALE_FREE_BYTES = 12e9;
/** Parses of each parser input: one parse's time varies by 20% here, so the median of three is shown. */
const PARSER_RUNS = 3;

const { values: opts } = parseArgs({
  options: {
    scale: { type: 'boolean', default: true },
    'no-scale': { type: 'boolean', default: false },
    only: { type: 'string' },
    'parser-lines': { type: 'string', default: '3' },
    runs: { type: 'string', default: '3' },
    ways: { type: 'string', default: OTHER_WAYS.join(',') },
    out: { type: 'string', default: join(ROOT, 'bench/results') },
    render: { type: 'string' },
  },
});
if (opts.render !== undefined) {
  process.stdout.write(renderMarkdown(JSON.parse(readFileSync(opts.render, 'utf8'))));
  process.exit(0);
}
const scaleOn = opts.scale && !opts['no-scale'];
const otherWays = opts.ways === 'none' ? [] : opts.ways.split(',');
for (const way of otherWays) if (!OTHER_WAYS.includes(way)) throw new Error(`--ways takes ${OTHER_WAYS.join(', ')} or none, got ${way}`);
const parserMillions = Number(opts['parser-lines']);
opts.runs = Number(opts.runs);
if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error(`--runs must be a whole number of rounds (1 or more), got ${opts.runs}`);
if (!(parserMillions > 0)) throw new Error(`--parser-lines must be a positive number of millions, got ${opts['parser-lines']}`);

const log = (msg) => process.stderr.write(`bench: ${msg}\n`);
const work = mkdtempSync(join(tmpdir(), 'slimify-bench-'));
const createdImages = new Set();
let cleaning;
/** One clean-up, however often asked for: the signal handler and main's finally share it, so neither exits before it is done. */
function cleanup() {
  cleaning ??= (async () => {
    await removeSessionContainers().catch((error) => log(`clean-up: containers: ${error.message}`));
    await removeImages(...createdImages);
    // the scale image's generator may still be writing into it (a signal cut it short): retried
    try {
      rmSync(work, { recursive: true, force: true, maxRetries: 10 });
    } catch (error) {
      log(`clean-up: ${work}: ${error.message}`);
    }
  })();
  return cleaning;
}
// `on`, not `once`: execa's exit hook re-raises a signal that no other listener is left to
// handle, which would end the process before the clean-up is done
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
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
  parser.push(await runParserBench(parserMillions, false, PARSER_RUNS));
  log(`parser: ${parserMillions} million lines replayed from the real samples`);
  parser.push(await runParserBench(parserMillions, true, PARSER_RUNS));

  const command = ['scripts/bench', ...process.argv.slice(2)].join(' ');
  const run = { schemaVersion: 1, command, runs: opts.runs, session, facts, results, scale, parser: parser.map(({ output, ...p }) => p) };
  run.targets = targets(run);
  mkdirSync(opts.out, { recursive: true });
  const markdown = renderMarkdown(run);
  writeFileSync(join(opts.out, 'latest.json'), JSON.stringify(run, null, 2) + '\n');
  writeFileSync(join(opts.out, 'latest.md'), markdown);
  process.stdout.write(markdown);
}

/**
 * One image, in `runs` rounds (the median round is reported): each round times the floor
 * (export, untraced probes), then slimify, then the slim image's load, so slimify and its floor
 * are always measured minutes apart at most, under the same conditions.
 */
async function measure(f, runs = opts.runs) {
  const r = { name: f.name, image: f.image };
  try {
    log(`${f.name}: sizes of the original`);
    r.original = { size: await imageSize(f.image), gzip: await gzippedSaveSize(f.image) };
    const rounds = [];
    for (let i = 0; i < runs; i++) rounds.push(await measureRound(f, r, i, runs));
    const { median, peakRssBytes, gnuTimeMaxRssBytes, ways } = summariseRounds(rounds);
    Object.assign(r, median.result);
    r.floor = median.floor;
    r.overhead = median.overhead;
    r.overheadWithSecondRun = r.wallMs / r.floor.withSecondRunMs;
    r.peakRssBytes = peakRssBytes;
    r.gnuTimeMaxRssBytes = gnuTimeMaxRssBytes;
    delete r.slimGzip;
    r.rounds = rounds.map((x) => ({ wallMs: x.result.wallMs, floorMs: x.floor.totalMs, overhead: Number(x.overhead.toFixed(3)), loadAverage1m: x.result.loadAverage1m, ways: x.result.ways }));
    r.ways = ways;
    log(`${f.name}: median of ${runs}: ${(r.wallMs / 1000).toFixed(1)} s, floor ${(r.floor.totalMs / 1000).toFixed(1)} s, overhead ${r.overhead.toFixed(2)}x (rounds ${r.rounds.map((x) => x.overhead.toFixed(2)).join(', ')}), verified ${r.verified}`);
  } catch (error) {
    r.error = error.message;
    log(`${f.name}: ${error.message}`);
  }
  return r;
}

/**
 * A pause before each timed step: the engine finishes in the background what the step before
 * left it (a removed container's teardown, a deleted image's layers), and no timed step pays
 * for another's. The same for the floor's steps and for slimify.
 */
function settle() {
  return new Promise((resolve) => setTimeout(resolve, 1500));
}

async function measureRound(f, r, i, runs) {
  const round = runs > 1 ? ` (round ${i + 1} of ${runs})` : '';
  log(`${f.name}${round}: floor: export`);
  await settle();
  const exported = await timeExport(f.image);
  log(`${f.name}${round}: floor: untraced run and probes`);
  await settle();
  const probes = await timeUntracedProbes(f);

  const tag = `slimify-bench/${f.name}:${session}-slim`;
  createdImages.add(tag);
  log(`${f.name}${round}: slimify build`);
  const result = {};
  // other work on a shared machine skews every time below; the load average makes it visible
  result.loadAverage1m = Number(loadavg()[0].toFixed(2));
  await settle();
  const run = await runSlimify(f, tag, work);
  Object.assign(result, { command: run.command, exitCode: run.exitCode, wallMs: run.wallMs, gnuTimeMaxRssBytes: run.gnuTimeMaxRssBytes });
  if (!run.report) throw new Error(`slimify build exited ${run.exitCode} without a report: ${run.log.split('\n').slice(-5).join(' / ')}`);
  result.report = { totalMs: run.report.totalMs, outputId: run.report.output?.id, layerDigest: run.report.output?.layerDigest };
  result.stages = Object.fromEntries(run.report.stages.map((st) => [st.stage, st.ms]));
  result.stagesCoveredMs = coveredMs(run.report.stages);
  result.slowestStage = STAGES.filter((st) => result.stages[st] != null).sort((a, b) => result.stages[b] - result.stages[a])[0];
  result.files = { original: run.report.files.original, kept: run.report.files.kept, entriesKept: run.report.files.entriesKept };
  result.ratio = run.report.ratio;
  result.verified = run.report.verification?.passed === true;
  result.peakRssBytes = run.report.peakRssBytes;
  result.via = run.report.filesystem?.via ?? 'export';
  result.ready = { untracedMs: probes.firstAnswerMs, tracedMs: run.report.readyMs?.traced ?? null, slimMs: run.report.readyMs?.slim ?? null };
  if (run.exitCode !== 0) result.error = `slimify build exited ${run.exitCode}`;

  log(`${f.name}${round}: slim image: size, save, load`);
  const tarball = join(work, `${f.name}.slim.tar`);
  result.slim = { size: await imageSize(tag) };
  await docker(['save', '-o', tarball, tag]);
  // the same input gives the same slim image: its compressed size is measured once
  result.slim.gzip = i === 0 ? Number(await pipeline('gzip -c < "$1" | wc -c', tarball)) : undefined;
  await removeImages(tag);
  await settle();
  const loaded = await timeLoad(tarball);
  rmSync(tarball);
  await removeImages(tag);
  if (i === 0) r.slimGzip = result.slim.gzip;
  else result.slim.gzip = r.slimGzip;

  const floor = { exportMs: exported.ms, exportBytes: exported.bytes, loadMs: loaded.ms, probesMs: probes.allAnsweredMs };
  floor.totalMs = floor.exportMs + floor.loadMs + floor.probesMs;
  // a tool that checks its result runs the app twice: the same floor with one more untraced run
  floor.withSecondRunMs = floor.totalMs + floor.probesMs;
  const overhead = result.wallMs / floor.totalMs;
  log(`${f.name}${round}: ${(result.wallMs / 1000).toFixed(1)} s (read via ${result.via}), floor ${(floor.totalMs / 1000).toFixed(1)} s, overhead ${overhead.toFixed(2)}x, verified ${result.verified}`);

  // the same build the ways it goes when slimify cannot read the image where the engine mounts it
  // (not root, a remote engine); the same floor
  result.ways = {};
  for (const way of result.via === 'mount' ? otherWays : []) {
    log(`${f.name}${round}: slimify build, SLIMIFY_READ=${way}`);
    await settle();
    const again = await runSlimify(f, tag, work, { SLIMIFY_READ: way });
    await removeImages(tag);
    const via = again.report?.filesystem?.via;
    if (again.exitCode !== 0 || via !== way) throw new Error(`slimify build with SLIMIFY_READ=${way} exited ${again.exitCode}, read via ${via}: ${again.log.split('\n').slice(-5).join(' / ')}`);
    result.ways[way] = { wallMs: again.wallMs, overhead: Number((again.wallMs / floor.totalMs).toFixed(3)), verified: again.report.verification?.passed === true, peakRssBytes: again.report.peakRssBytes };
    log(`${f.name}${round}: ${way} way ${(again.wallMs / 1000).toFixed(1)} s, overhead ${result.ways[way].overhead.toFixed(2)}x`);
  }
  return { result, floor, overhead };
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
  // one round: a round of the 2 GB image takes about a minute
  const large = await measure({ ...staticBin, name: 'large-2g', image: tag }, 1);
  await removeImages(tag);
  return { shape: SCALE_SHAPE, generated, small, large };
}
