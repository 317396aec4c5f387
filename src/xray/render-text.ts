/**
 * The xray report as text for a terminal: layers first, then the figures, then what to fix.
 */
import { formatBytes } from '../util/log.js';
import type { RuleResult } from './ci-rules.js';
import type { XrayReport } from './xray-report.js';

function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(1)} %`;
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

function padLeft(text: string, width: number): string {
  return text.length >= width ? text : ' '.repeat(width - text.length) + text;
}

function clip(text: string, width: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

export function renderText(report: XrayReport, limit = 10): string {
  const out: string[] = [];
  const { dive, reclaimable } = report;
  out.push(`Image ${report.image.ref}${report.image.repoTags.length ? ` (${report.image.repoTags.join(', ')})` : ''}`);
  out.push('');
  out.push('Layers');
  out.push(`  ${padLeft('#', 3)}  ${padLeft('size', 9)}  ${padLeft('added', 7)} ${padLeft('changed', 7)} ${padLeft('deleted', 7)}  created by`);
  for (const layer of report.layers) {
    out.push(
      `  ${padLeft(String(layer.index), 3)}  ${padLeft(formatBytes(layer.sizeBytes), 9)}  ${padLeft(String(layer.added.count), 7)} ${padLeft(String(layer.changed.count), 7)} ${padLeft(String(layer.deleted.count), 7)}  ${clip(layer.createdBy, 70)}`,
    );
  }
  out.push('');
  out.push('Efficiency (as dive computes it)');
  out.push(`  efficiency score       ${pct(dive.efficiency)}`);
  out.push(`  wasted bytes           ${formatBytes(dive.wastedBytes)} (${dive.wastedBytes} B; counts every copy of a path seen in two layers or more, the kept one too)`);
  out.push(`  user wasted            ${pct(dive.userWastedPercent)} of ${formatBytes(dive.userSizeBytes)} in layers above the base`);
  out.push(`  image content          ${formatBytes(dive.sizeBytes)}`);
  out.push('');
  out.push('Really reclaimable');
  out.push(`  hidden by later layers ${formatBytes(reclaimable.hiddenBytes)} (deleted or overwritten: in the layers, not in the container)`);
  out.push(`  package caches, lists  ${formatBytes(reclaimable.cacheBytes)}`);
  out.push(`  duplicate content      ${formatBytes(reclaimable.duplicateBytes)} (one copy kept)`);
  out.push(`  total                  ${formatBytes(reclaimable.totalBytes)} of ${formatBytes(dive.sizeBytes)}`);

  const section = (title: string, lines: string[]) => {
    if (!lines.length) return;
    out.push('');
    out.push(title);
    out.push(...lines.slice(0, limit).map((l) => `  ${l}`));
    if (lines.length > limit) out.push(`  … ${lines.length - limit} more (--json lists them)`);
  };
  section('Package-manager caches and lists left in the image', report.caches.map((c) => `${pad(c.label, 44)} ${padLeft(formatBytes(c.bytes), 9)}  ${c.files} files, layer ${c.layers.join(', ')}; fix: ${c.fix}`));
  section('Added, then deleted in a later layer', report.deletedLater.map((s) => `${padLeft(formatBytes(s.size), 9)}  ${s.path}  (added in layer ${s.addedIn}, deleted in ${s.hiddenIn})`));
  section('Overwritten in a later layer', report.overwritten.map((s) => `${padLeft(formatBytes(s.size), 9)}  ${s.path}  (layer ${s.addedIn}, replaced in ${s.hiddenIn})`));
  section('Duplicate files (same content)', report.duplicates.map((d) => `${padLeft(formatBytes(d.reclaimableBytes), 9)}  ${d.paths.length} × ${formatBytes(d.bytes)}: ${d.paths.slice(0, 3).join(', ')}${d.paths.length > 3 ? ', …' : ''}`));
  section('Biggest files', report.biggestFiles.map((f) => `${padLeft(formatBytes(f.bytes), 9)}  ${f.path}  (layer ${f.layer})`));
  section('Biggest directories', report.biggestDirs.map((d) => `${padLeft(formatBytes(d.bytes), 9)}  ${d.path}  (${d.files} files)`));
  return `${out.join('\n')}\n`;
}

export function renderRules(results: RuleResult[]): string {
  const lines = results.map((r) => `  ${pad(r.status.toUpperCase(), 8)} ${r.message}`);
  const failed = results.filter((r) => r.status === 'fail').length;
  return `\nCI rules\n${lines.join('\n')}\n  ${failed ? `FAILED: ${failed} rule(s)` : 'PASSED'}\n`;
}
