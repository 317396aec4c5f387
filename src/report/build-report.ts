/**
 * The build report: one JSON document (`--report FILE`, `--json`) and its terminal rendering.
 */
import type { ReadVia } from '../assemble/pristine-source.js';
import type { Probe, ProbeOutcome } from '../probes/probe.js';
import type { MissingPath } from '../verify/missing-paths.js';
import type { Verification } from '../verify/verify-slim.js';
import { formatBytes, formatSeconds } from '../util/log.js';

export interface StageTiming {
  stage: string;
  ms: number;
  /** when the stage began, in ms from the start of the build (stages can overlap: the index runs during the trace) */
  startMs: number;
}

export interface BuildReport {
  slimifyVersion: string;
  source: { ref: string; id: string; size: number };
  output: { tag: string; id: string; size: number; layerDigest: string };
  /** original size / slim size */
  ratio: number;
  files: { original: number; kept: number; entriesKept: number };
  /** how the image's filesystem was read: where the engine mounts it, inside a container, or exported (and why not a faster way) */
  filesystem: { via: ReadVia; reason?: string };
  /** the probes as defined (request bodies as text) */
  probeDefinitions: Array<Omit<Probe, 'body'> & { body?: string }>;
  probes: ProbeOutcome[];
  trace: { lines: number; processes: number; used: number; missing: number; executed: string[] };
  closure: { missing: Array<{ path: string; reason: string }>; absentSeeds: number };
  directories: Array<{ directory: string; bytes: number }>;
  stages: StageTiming[];
  totalMs: number;
  /** time until the traced app answered on every port, and the same for the slim image */
  readyMs: { traced: number; slim?: number };
  /** peak resident memory of the slimify process */
  peakRssBytes: number;
  verification?: Verification;
  /** held back from the traced run, run on the original (reference) and the slim image */
  verifyProbeDefinitions: Array<Omit<Probe, 'body'> & { body?: string }>;
  /** what the slim image looked for and did not find, when verification failed */
  explanation?: { missing: MissingPath[]; flags: string };
  /** --auto-include: what each round added and whether the result verified */
  repair?: { rounds: RepairRound[] };
  /** --exclude: what was dropped after the closure */
  excluded?: { patterns: string[]; dropped: number; droppedTraced: string[] };
  /** every kept path with why it was kept */
  kept: Record<string, string[]>;
}

export interface RepairRound {
  round: number;
  added: string[];
  outputId: string;
  size: number;
  verification: Verification;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

export function renderBuildReport(report: BuildReport): string {
  const out: string[] = [];
  out.push(
    table([
      ['', 'image', 'size', 'files'],
      ['original', report.source.ref, formatBytes(report.source.size), String(report.files.original)],
      ['slim', report.output.tag, formatBytes(report.output.size), String(report.files.kept)],
    ]),
  );
  out.push(`${report.ratio.toFixed(1)}x smaller (${formatBytes(report.source.size - report.output.size)} saved, ${report.files.original - report.files.kept} files dropped)`);
  out.push('');
  out.push('probes (traced run):');
  out.push(table([['  probe', 'result'], ...report.probes.map((p) => [`  ${p.name}`, p.ok ? `ok${p.status ? ` (${p.status})` : p.exitCode !== undefined ? ` (exit ${p.exitCode})` : ''}` : `FAILED: ${p.error}`])]));
  if (report.probes.length === 0) out.push('  (none: the app ran until it exited)');
  if (report.verification) {
    out.push('');
    out.push(`verification: ${report.verification.passed ? 'passed' : 'FAILED'}`);
    out.push(table([['  probe', 'original', 'slim', ''], ...report.verification.comparisons.map((c) => [`  ${c.name}`, c.original, c.slim, c.same ? 'same' : `DIFFERENT: ${c.why}`]), ['  container', report.verification.container.original, report.verification.container.slim, '']]));
  }
  if (report.explanation?.missing.length) {
    out.push('');
    out.push('what the slim image misses:');
    for (const m of report.explanation.missing.slice(0, 20)) out.push(`  ${describeMissing(m)}`);
    if (report.explanation.missing.length > 20) out.push(`  ... and ${report.explanation.missing.length - 20} more (see the JSON report)`);
    out.push(`to keep them: ${report.explanation.flags}`);
  }
  for (const round of report.repair?.rounds ?? []) {
    out.push('');
    out.push(`auto-include round ${round.round}: added ${round.added.length} paths, ${formatBytes(round.size)}, verification ${round.verification.passed ? 'passed' : 'FAILED'}`);
    for (const path of round.added.slice(0, 10)) out.push(`  + ${path}`);
    if (round.added.length > 10) out.push(`  ... and ${round.added.length - 10} more`);
  }
  if (report.excluded?.droppedTraced.length) {
    out.push('');
    out.push(`--exclude dropped ${report.excluded.droppedTraced.length} paths the app used, e.g. ${report.excluded.droppedTraced.slice(0, 3).join(', ')}`);
  }
  if (report.directories.length) {
    out.push('');
    out.push('kept bytes by directory:');
    out.push(table(report.directories.slice(0, 8).map((d) => [`  ${d.directory}`, formatBytes(d.bytes)])));
  }
  if (report.closure.missing.length) {
    out.push('');
    out.push('dependencies not found in the image:');
    for (const m of report.closure.missing.slice(0, 10)) out.push(`  ${m.path} (${m.reason})`);
  }
  out.push('');
  out.push(`stages: ${stageTimes(report.stages)}; total ${formatSeconds(report.totalMs)}`);
  return out.join('\n');
}

/** `inspect 0.0s, sensor 0.7s, index 3.1s (alongside sensor, trace), ...`, in the order the stages began. */
export function stageTimes(stages: StageTiming[]): string {
  // by start, the longer first when two start together: a stage names the later ones it overlaps
  const ordered = [...stages].sort((a, b) => a.startMs - b.startMs || b.ms - a.ms);
  const end = (s: StageTiming) => s.startMs + s.ms;
  return ordered
    .map((s, i) => {
      const alongside = ordered.slice(i + 1).filter((o) => o.startMs < end(s)).map((o) => o.stage);
      return `${s.stage} ${formatSeconds(s.ms)}${alongside.length ? ` (alongside ${alongside.join(', ')})` : ''}`;
    })
    .join(', ');
}

export function describeMissing(m: MissingPath): string {
  const where = m.inOriginal !== m.path ? ` as ${m.inOriginal}` : '';
  return m.seen === 'slim-lookup'
    ? `the slim image looked for ${m.path} (exists in the original${where})`
    : `the original used ${m.path} during the probes and the slim image lacks it (exists in the original${where})`;
}
