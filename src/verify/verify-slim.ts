/**
 * Verification: run the slim image untraced with the same settings and probes as the traced
 * run, plus the verification-only probes the trace never saw, and compare what each probe gave
 * and whether the container stayed up. The original's answers come from the traced run, and for
 * the verification-only probes from one untraced reference run of the original.
 */
import type { MountSource } from '../engine/container.js';
import type { ImageInfo } from '../engine/engine.js';
import type { Session } from '../engine/session.js';
import type { Probe } from '../probes/probe.js';
import { type ContinueAfter, type RunResult, type Sensor, runTarget } from '../run/run-target.js';
import type { TraceSummary } from '../trace/trace-summary.js';
import { type OutcomeComparison, compareOutcomes } from './compare-outcomes.js';

export interface Verification {
  passed: boolean;
  comparisons: OutcomeComparison[];
  container: { original: string; slim: string };
  logs?: string[];
  readyMs: number;
}

export interface RunSettings {
  readyTimeoutMs: number;
  stopGraceSeconds: number;
  continueAfter: ContinueAfter;
  exitTimeoutMs: number;
  /** keep containers up after the app exits (exec probes in CLI images) */
  hold?: { sensor: MountSource };
}

export interface VerifyInput {
  session: Session;
  slim: ImageInfo;
  probes: Probe[];
  /** held back from the traced run; run on the slim image and on the original for reference */
  verifyProbes: Probe[];
  /** the traced run of the original */
  traced: RunResult;
  /** the original run untraced with probes + verifyProbes (only needed when verifyProbes is not empty) */
  reference?: RunResult;
  run: RunSettings;
}

function describeEnd(run: { stayedUp: boolean; exitCode: number }): string {
  return run.stayedUp ? 'stayed up until stopped' : `exited with ${run.exitCode}`;
}

/** The original, untraced, with every probe: the reference answers of the verification-only probes. */
export function referenceRun(session: Session, original: ImageInfo, probes: Probe[], run: RunSettings): Promise<RunResult> {
  return runTarget({ session, image: original, ref: original.id, probes, ...run, purpose: 'reference' });
}

export async function verifySlim(input: VerifyInput): Promise<Verification> {
  const all = [...input.probes, ...input.verifyProbes];
  const run = await runTarget({ session: input.session, image: input.slim, ref: input.slim.id, probes: all, ...input.run, purpose: 'verify' });
  return judge(input, run);
}

/** The slim image once more, under the sensor, with every probe: what did it look for? */
export async function traceSlim(input: VerifyInput, sensor: Sensor): Promise<{ run: RunResult; trace: TraceSummary | undefined }> {
  const run = await runTarget({ session: input.session, image: input.slim, ref: input.slim.id, probes: [...input.probes, ...input.verifyProbes], ...input.run, sensor, purpose: 'explain' });
  return { run, trace: run.trace };
}

/** The original under the sensor with every probe: what the verification-only probes make it use. */
export async function traceOriginal(input: VerifyInput, original: ImageInfo, sensor: Sensor): Promise<TraceSummary | undefined> {
  const run = await runTarget({ session: input.session, image: original, ref: original.id, probes: [...input.probes, ...input.verifyProbes], ...input.run, sensor, purpose: 'explain-original' });
  return run.trace;
}

export function judge(input: VerifyInput, run: RunResult): Verification {
  const all = [...input.probes, ...input.verifyProbes];
  const tracedOutcomes = input.traced.probes.outcomes;
  const reference = input.reference?.probes.outcomes ?? [];
  // probe outcomes from the traced run, verification-only ones from the reference run, then the crawled pages of the traced run
  const originalOutcomes = [...tracedOutcomes.slice(0, input.probes.length), ...reference.slice(input.probes.length, all.length), ...tracedOutcomes.slice(input.probes.length)];
  const comparisons = compareOutcomes(all, originalOutcomes, run.probes.outcomes);
  const traced = input.traced;
  const sameEnd = run.stayedUp === traced.stayedUp && (traced.stayedUp || run.exitCode === traced.exitCode);
  // an app that runs to its end answers with its output: the same input must give the same output
  const sameOutput = traced.stayedUp || run.logs.stdout === traced.logs.stdout;
  if (!sameOutput) comparisons.push({ name: 'container stdout', original: `${Buffer.byteLength(traced.logs.stdout)} bytes`, slim: `${Buffer.byteLength(run.logs.stdout)} bytes`, same: false, why: 'the container printed something else' });
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
