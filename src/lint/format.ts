/** Lint findings as text for a terminal, JSON (hadolint's field names) and SARIF 2.1.0. */
import { VERSION } from '../version.js';
import type { Finding, Format, Severity } from './finding.js';
import { RULES } from './lint.js';

export function formatTty(findings: Finding[]): string {
  if (!findings.length) return 'no findings\n';
  const lines = findings.map((f) => `${f.file}:${f.line} ${f.rule} ${f.severity}: ${f.message}\n    fix: ${f.fix}`);
  const counts = new Map<Severity, number>();
  for (const f of findings) counts.set(f.severity, (counts.get(f.severity) ?? 0) + 1);
  const summary = [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
  return `${lines.join('\n')}\n\n${findings.length} finding(s): ${summary}\n`;
}

export function formatJson(findings: Finding[]): string {
  const rows = findings.map((f) => ({ file: f.file, line: f.line, code: f.rule, level: f.severity, message: f.message, fix: f.fix }));
  return `${JSON.stringify(rows, null, 2)}\n`;
}

const SARIF_LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note', style: 'note' };

export function formatSarif(findings: Finding[]): string {
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'slimify lint',
            version: VERSION,
            informationUri: 'https://github.com/hadolint/hadolint',
            rules: RULES.map((r) => ({ id: r.id, shortDescription: { text: r.title }, defaultConfiguration: { level: SARIF_LEVEL[r.severity] } })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.rule,
          level: SARIF_LEVEL[f.severity],
          message: { text: `${f.message}. Fix: ${f.fix}` },
          locations: [{ physicalLocation: { artifactLocation: { uri: f.file }, region: { startLine: Math.max(f.line, 1) } } }],
        })),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}

export function formatFindings(findings: Finding[], format: Format): string {
  return format === 'json' ? formatJson(findings) : format === 'sarif' ? formatSarif(findings) : formatTty(findings);
}
