/**
 * Verification's judgement: the slim image must answer every probe as the original did.
 * HTTP probes compare status and body digest (status only when the probe says its body is not
 * deterministic); --exec commands, healthchecks and scripts compare exit codes. Their output is
 * not compared: commands often list directories or print times, which differ by design in an
 * image that keeps only what was used.
 */
import type { Probe, ProbeOutcome } from '../probes/probe.js';

export interface OutcomeComparison {
  name: string;
  original: string;
  slim: string;
  same: boolean;
  why?: string;
}

function describe(outcome: ProbeOutcome | undefined): string {
  if (!outcome) return 'not run';
  if (outcome.status !== undefined) return `${outcome.status}${outcome.bodyDigest ? ` ${outcome.bodyDigest.slice(7, 19)}` : ''}`;
  if (outcome.exitCode !== undefined) return `exit ${outcome.exitCode}`;
  return outcome.ok ? 'ok' : `failed: ${outcome.error}`;
}

/**
 * Outcome i of each run belongs to probe i; outcomes past the probes are crawled pages, matched
 * by name (a page only one of the two runs found is a difference).
 */
export function compareOutcomes(probes: Probe[], original: ProbeOutcome[], slim: ProbeOutcome[]): OutcomeComparison[] {
  const crawledA = new Map(original.slice(probes.length).map((o) => [o.name, o]));
  const crawledB = new Map(slim.slice(probes.length).map((o) => [o.name, o]));
  const crawled = [...new Set([...crawledA.keys(), ...crawledB.keys()])].map((name) => {
    const a = crawledA.get(name);
    const b = crawledB.get(name);
    const base = { name, original: describe(a), slim: describe(b) };
    if (!a || !b) return { ...base, same: false, why: `the page was found by crawling only ${a ? 'the original' : 'the slim image'}` };
    if (a.status !== b.status) return { ...base, same: false, why: `status ${b.status ?? 'none'} instead of ${a.status ?? 'none'}` };
    if (a.bodyDigest !== b.bodyDigest) return { ...base, same: false, why: 'the body differs' };
    return { ...base, same: true };
  });
  return [...direct(probes, original, slim), ...crawled];
}

function direct(probes: Probe[], original: ProbeOutcome[], slim: ProbeOutcome[]): OutcomeComparison[] {
  return probes.map((probe, i) => {
    const a = original[i];
    const b = slim[i];
    const base = { name: probe.name, original: describe(a), slim: describe(b) };
    if (!a || !b) return { ...base, same: false, why: 'probe was not run on both images' };
    if (a.ok && !b.ok) return { ...base, same: false, why: b.error ?? 'failed on the slim image' };
    if (probe.kind === 'http') {
      if (a.status !== b.status) return { ...base, same: false, why: `status ${b.status ?? 'none'} instead of ${a.status ?? 'none'}` };
      if (!probe.statusOnly && a.bodyDigest !== b.bodyDigest) return { ...base, same: false, why: 'the body differs (mark the probe statusOnly if it is not deterministic)' };
      return { ...base, same: true };
    }
    if (a.exitCode !== b.exitCode) return { ...base, same: false, why: `exit code ${b.exitCode} instead of ${a.exitCode}` };
    return { ...base, same: true };
  });
}
