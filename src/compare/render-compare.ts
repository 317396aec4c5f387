/** The terminal rendering of a CompareReport. */
import { formatBytes } from '../util/log.js';
import type { CompareReport } from './compare.js';

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

function signed(bytes: number): string {
  return bytes >= 0 ? `-${formatBytes(bytes)}` : `+${formatBytes(-bytes)}`;
}

function show(value: unknown): string {
  const text = value === null ? '(none)' : typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function renderCompare(report: CompareReport): string {
  const { a, b } = report;
  const out: string[] = [];
  out.push(
    table([
      ['', 'A', 'B'],
      ['image', a.ref, b.ref],
      ['size', formatBytes(a.size), formatBytes(b.size)],
      ['compressed layers', formatBytes(a.compressedLayerBytes), formatBytes(b.compressedLayerBytes)],
      ['layers', String(a.layers), String(b.layers)],
      ['regular files', String(a.regularFiles), String(b.regularFiles)],
    ]),
  );
  out.push(`B is ${report.ratio.toFixed(1)}x smaller than A (${formatBytes(a.size - b.size)} less, ${a.regularFiles - b.regularFiles} fewer files)`);
  out.push('');
  out.push('directories that account for the difference (file bytes in A, in B, B - A):');
  out.push(table(report.filesystem.directories.map((d) => [`  ${d.directory}`, formatBytes(d.bytesA), formatBytes(d.bytesB), signed(d.difference)])));
  for (const [label, only] of [['A', report.filesystem.onlyInA], ['B', report.filesystem.onlyInB]] as const) {
    out.push('');
    out.push(`only in ${label}: ${only.count} files and links, ${formatBytes(only.bytes)}`);
    for (const f of only.largest) out.push(`  ${f.path}  ${formatBytes(f.bytes)}`);
  }
  out.push('');
  if (report.config.length === 0) out.push('config: the same');
  else {
    out.push('config differences:');
    out.push(table(report.config.map((c) => [`  ${c.field}`, show(c.a), show(c.b)])));
  }
  return out.join('\n');
}
