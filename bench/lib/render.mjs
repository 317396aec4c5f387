// The Markdown form of a benchmark run (bench/results/latest.md and stdout).
import { OTHER_WAYS } from './summary.mjs';

export const STAGES = ['sensor', 'trace', 'index', 'closure', 'assemble', 'load', 'verify'];

const mb = (bytes) => (bytes == null ? '–' : (bytes / 1e6).toFixed(bytes < 10e6 ? 2 : 1));
const s = (ms) => (ms == null ? '–' : (ms / 1000).toFixed(1));
const msText = (ms) => (ms == null ? '–' : String(ms));
const x = (ratio) => (ratio == null ? '–' : `${ratio.toFixed(2)}x`);

function table(head, rows) {
  return [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? ':---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function headlineTable(results) {
  return table(
    ['image', 'original MB', 'original gz MB', 'slim MB', 'slim gz MB', 'ratio', 'files kept', 'verified', 'slimify s', 'floor s', 'overhead', 'peak RSS MB', 'slowest stage'],
    results.map((r) => r.error && !r.report
      ? [r.name, mb(r.original?.size), mb(r.original?.gzip), '–', '–', '–', '–', `error: ${r.error}`, '–', '–', '–', '–', '–']
      : [
          r.name, mb(r.original.size), mb(r.original.gzip), mb(r.slim.size), mb(r.slim.gzip), `${r.ratio.toFixed(1)}x`,
          `${r.files.kept} / ${r.files.original}`, r.verified ? 'yes' : 'NO', s(r.wallMs), s(r.floor.totalMs), x(r.overhead),
          mb(r.peakRssBytes), r.slowestStage ? `${r.slowestStage} ${s(r.stages[r.slowestStage])} s` : '–',
        ]),
  );
}

/** Runs from before --runs (schema 1 without `runs`) had one round per image. */
function roundsText(runs = 1) {
  return runs > 1
    ? `Each image measured in ${runs} rounds (a round: the floor, then slimify, then the load of its slim image); the round with the median overhead is shown, peak memory is the worst round's`
    : 'One run per image';
}

export function renderMarkdown(run) {
  const ok = run.results.filter((r) => r.report);
  const parts = [
    `# slimify benchmark`,
    '',
    `${run.facts.date} · ${run.facts.cores} cores (${run.facts.cpuModel}) · ${(run.facts.memoryBytes / 2 ** 30).toFixed(0)} GiB · ` +
      `${run.facts.engine} · kernel ${run.facts.kernel} · Node ${run.facts.node} · commit ${run.facts.commit}`,
    '',
    `Command: \`${run.command}\`. ${roundsText(run.runs)}; sizes in MB (10^6 bytes); uncompressed = \`docker image inspect\` Size, ` +
      `gz = bytes of \`docker save IMAGE | gzip -c | wc -c\`. See docs/benchmark.md for what each column means.`,
    '',
    headlineTable(run.results),
    '',
    '## Time per stage (seconds, from the report)',
    '',
    table(['image', ...STAGES, 'outside stages', 'report total', 'wall'], ok.map((r) => [r.name, ...STAGES.map((st) => s(r.stages[st])),
      s(r.wallMs - (r.stagesCoveredMs ?? STAGES.reduce((sum, st) => sum + (r.stages[st] ?? 0), 0))), s(r.report.totalMs), s(r.wallMs)])),
    '',
    'Stages can overlap: the index (reading and copying the image) runs alongside the trace stage. ' +
      '"outside stages" = wall − the time covered by at least one stage: Node start-up, engine ping, ' +
      'writing the report and the clean-up after it.',
    '',
    '## The floor (seconds)',
    '',
    'export = `docker create` + `docker export | wc -c` + `docker rm`; load = `docker load` of the saved slim image after removing it; ' +
      'probes = `docker run -d` of the untraced original until every catalogued endpoint gave its expected answer (cli-tool: `docker run --rm` of its default command).',
    '',
    table(['image', 'export', 'exported MB', 'load', 'probes', 'floor', 'slimify', 'overhead', 'every round', 'floor + 2nd run', 'overhead over that'],
      ok.map((r) => [r.name, s(r.floor.exportMs), mb(r.floor.exportBytes), s(r.floor.loadMs), s(r.floor.probesMs), s(r.floor.totalMs), s(r.wallMs), x(r.overhead),
        r.rounds ? r.rounds.map((round) => x(round.overhead)).join(' ') : '–',
        r.floor.withSecondRunMs != null ? s(r.floor.withSecondRunMs) : '–', r.overheadWithSecondRun != null ? x(r.overheadWithSecondRun) : '–'])),
    '',
    'The floor runs the app once. slimify runs it twice, by design: traced, then the slim image to verify it. ' +
      '"floor + 2nd run" adds the probes column once more (a second untraced run of the app); the target is measured against the floor alone.',
    '',
    ...otherWaysText([...ok, ...(run.scale?.large?.report ? [run.scale.large] : [])]),
    '## Tracing overhead: time to the first answer (ms, from container start)',
    '',
    table(['image', 'untraced original', 'traced (readyMs.traced)', 'slim, untraced (readyMs.slim)', 'traced / untraced'],
      ok.filter((r) => r.ready.untracedMs != null).map((r) => [r.name, msText(r.ready.untracedMs), msText(r.ready.tracedMs), msText(r.ready.slimMs),
        r.ready.tracedMs != null && r.ready.untracedMs > 0 ? x(r.ready.tracedMs / r.ready.untracedMs) : '–'])),
    '',
    'Both clocks start when the engine has started the container (slimify: when its start call returns; the benchmark: when `docker run -d` exits). ' +
      'The untraced time is polled every 20 ms; slimify polls every 50 ms, so its readyMs can exceed the real start-up by up to 50 ms. ' +
      'For apps that answer within one poll (nginx, static-bin) the figures say more about when the first poll landed than about tracing.',
    '',
    '## Memory',
    '',
    table(['image', 'image MB', 'peakRssBytes (report) MB', '/usr/bin/time -v max RSS MB'],
      ok.map((r) => [r.name, mb(r.original.size), mb(r.peakRssBytes), mb(r.gnuTimeMaxRssBytes)])),
    ...(ok.some((r) => r.loadAverage1m != null)
      ? ['', `1-minute load average when each slimify build started (${run.facts.cores} cores; above that, other work competed for the CPU): ` +
          ok.map((r) => `${r.name} ${r.loadAverage1m ?? '–'}`).join(', ') + '.']
      : []),
  ];
  if (run.scale) parts.push('', '## Scale', '', scaleText(run.scale));
  if (run.parser.length > 0) {
    parts.push('', '## Trace parser throughput (scripts/bench-parser.mjs)', '',
      table(['input', 'lines', 'MB', 'CPU s', 'wall s', 'lines per CPU s', 'lines/s wall', 'peak RSS MiB'],
        run.parser.map((p) => [p.input, p.lines?.toLocaleString('en-US') ?? '–', p.megabytes ?? '–', p.cpuSeconds ?? '–', p.wallSeconds ?? '–',
          (p.linesPerCpuSecond?.toLocaleString('en-US') ?? '–') + runsOf(p.runsLinesPerCpuSecond), p.linesPerWallSecond?.toLocaleString('en-US') ?? '–', p.peakRssMiB ?? '–'])));
  }
  parts.push('', '## Targets', '', table(['target', 'measured', 'status'], run.targets.map((t) => [t.target, t.measured, t.met ? 'met' : `MISSED (${t.by})`])));
  return parts.join('\n') + '\n';
}

/** The other runs of a parser input, after the median run's figure (runs before --repeat had one). */
function runsOf(runs) {
  return runs && runs.length > 1 ? ` (runs: ${runs.map((n) => n.toLocaleString('en-US')).join(', ')})` : '';
}

/** Runs before the container way came in recorded the export way alone, as `exportWay`. */
function waysOf(holder) {
  return holder.ways ?? (holder.exportWay ? { export: holder.exportWay } : {});
}

/** The other ways (runs since the mounted read came in): the same build with SLIMIFY_READ=container or export, against the same floor. */
function otherWaysText(ok) {
  const rows = ok.filter((r) => Object.keys(waysOf(r)).length > 0);
  if (rows.length === 0) return [];
  const ways = OTHER_WAYS.filter((way) => rows.some((r) => waysOf(r)[way]));
  return [
    '## Read where the engine mounts it, inside a container, or exported',
    '',
    'As root with a local engine, slimify reads the image where the engine mounts it and copies only the kept files (`read via` mount); ' +
      'otherwise it reads it inside a container of the image (slimify\'s init lists the files and sends the kept ones), and if that fails, the whole image through `docker export`. ' +
      `Each round also builds the image with ${ways.map((way) => `\`SLIMIFY_READ=${way}\``).join(' and ')}, against the same floor.`,
    '',
    table(['image', 'read via', 'slimify s', 'overhead', ...ways.flatMap((way) => [`${way} way s (median)`, 'overhead', `every round (${way} way)`, 'peak RSS MB (worst round)'])],
      rows.map((r) => [r.name, r.via, s(r.wallMs), x(r.overhead), ...ways.flatMap((way) => {
        const median = waysOf(r)[way];
        const rounds = (r.rounds ?? [r]).map((round) => waysOf(round)[way]).filter(Boolean);
        const peaks = rounds.map((w) => w.peakRssBytes).filter((bytes) => bytes != null);
        return [s(median?.wallMs), x(median?.overhead), rounds.map((w) => x(w.overhead)).join(' '), peaks.length ? mb(Math.max(...peaks)) : '–'];
      })])),
    '',
  ];
}

function scaleText(scale) {
  if (scale.skipped) return `Skipped: ${scale.skipped}`;
  const lines = [
    `Synthetic image \`${scale.shape.base}\` + COPY of ${scale.generated.files.toLocaleString('en-US')} generated files ` +
      `(${(scale.generated.bytes / 1e9).toFixed(2)} GB of random bytes: ${scale.shape.largeFiles} × ${scale.shape.largeFileMiB} MiB ` +
      `and ${scale.shape.smallFiles.toLocaleString('en-US')} files of up to ${scale.shape.smallFileMaxKiB} KiB); the app is static-bin's server, ` +
      `which touches none of them. Generated in ${s(scale.generated.generateMs)} s, built in ${s(scale.generated.buildMs)} s (not counted below).`,
  ];
  if (scale.small && scale.large?.report) {
    const rows = [scale.small, scale.large].map((r) => [r.name, mb(r.original.size), String(r.files.original), mb(r.peakRssBytes), mb(r.gnuTimeMaxRssBytes),
      ...STAGES.map((st) => s(r.stages[st])), s(r.wallMs), x(r.overhead)]);
    lines.push('', table(['image', 'image MB', 'files', 'peak RSS MB', 'time -v RSS MB', ...STAGES.map((st) => `${st} s`), 'wall s', 'overhead'], rows));
    const growth = scale.large.peakRssBytes - scale.small.peakRssBytes;
    lines.push('', `Peak memory grows by ${mb(growth)} MB while the image grows by ${mb(scale.large.original.size - scale.small.original.size)} MB.`);
  } else if (scale.large?.error) {
    lines.push('', `slimify on the large image failed: ${scale.large.error}`);
  }
  return lines.join('\n');
}
