/**
 * The build report: one JSON document (`--report FILE`, `--json`) and its terminal rendering.
 */
import type { Probe, ProbeOutcome } from '../probes/probe.js';
import type { Verification } from '../verify/verify-slim.js';
import { formatBytes, formatSeconds } from '../util/log.js';

export interface StageTiming {
  stage: string;
  ms: number;
}

export interface BuildReport {
  slimifyVersion: string;
  source: { ref: string; id: string; size: number };
  output: { tag: string; id: string; size: number; layerDigest: string };
  /** original size / slim size */
  ratio: number;
  files: { original: number; kept: number; entriesKept: number };
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
  /** every kept path with why it was kept */
  kept: Record<string, string[]>;
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
  out.push(`stages: ${report.stages.map((s) => `${s.stage} ${formatSeconds(s.ms)}`).join(', ')}; total ${formatSeconds(report.totalMs)}`);
  return out.join('\n');
}
