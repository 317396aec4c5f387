/**
 * Verification: run the slim image untraced with the same settings and probes as the traced
 * run, and compare what each probe gave, and whether the container stayed up.
 */
import type { ImageInfo } from '../engine/engine.js';
import type { Session } from '../engine/session.js';
import type { Probe } from '../probes/probe.js';
import { type ContinueAfter, type RunResult, runTarget } from '../run/run-target.js';
import { type OutcomeComparison, compareOutcomes } from './compare-outcomes.js';

export interface Verification {
  passed: boolean;
  comparisons: OutcomeComparison[];
  container: { original: string; slim: string };
  logs?: string[];
  readyMs: number;
}

export interface VerifyInput {
  session: Session;
  slim: ImageInfo;
  probes: Probe[];
  /** the traced run of the original */
  traced: RunResult;
  run: { readyTimeoutMs: number; stopGraceSeconds: number; continueAfter: ContinueAfter; exitTimeoutMs: number };
}

function describeEnd(run: { stayedUp: boolean; exitCode: number }): string {
  return run.stayedUp ? 'stayed up until stopped' : `exited with ${run.exitCode}`;
}

export async function verifySlim(input: VerifyInput): Promise<Verification> {
  const run = await runTarget({
    session: input.session,
    image: input.slim,
    ref: input.slim.id,
    probes: input.probes,
    readyTimeoutMs: input.run.readyTimeoutMs,
    stopGraceSeconds: input.run.stopGraceSeconds,
    continueAfter: input.run.continueAfter,
    exitTimeoutMs: input.run.exitTimeoutMs,
    purpose: 'verify',
  });
  const comparisons = compareOutcomes(input.probes, input.traced.probes.outcomes, run.probes.outcomes);
  const traced = input.traced;
  const sameEnd = run.stayedUp === traced.stayedUp && (traced.stayedUp || run.exitCode === traced.exitCode);
  const logs = `${run.logs.stdout}${run.logs.stderr}`.trimEnd().split('\n').filter(Boolean).slice(-15);
  const passed = comparisons.every((c) => c.same) && sameEnd;
  return {
    passed,
    comparisons,
    container: { original: describeEnd(traced), slim: describeEnd(run) },
    readyMs: run.probes.readyMs,
    logs: passed || logs.length === 0 ? undefined : ['last lines of the slim container output:', ...logs.map((l) => `  | ${l}`)],
  };
}
