/**
 * `slimify build`: the whole pipeline, stage by stage (see README, "Architecture"):
 * inspect -> sensor -> traced run + probes -> parse -> index -> closure -> assemble -> load ->
 * verify -> report. Every container, volume and temp dir belongs to one Session and is removed
 * whatever happens.
 */
import { join } from 'node:path';
import { computeClosure, type Reason } from '../closure/closure.js';
import { engineArchitecture, inspectImage, loadImage, pingEngine } from '../engine/engine.js';
import { Session } from '../engine/session.js';
import { SlimifyError } from '../errors.js';
import { indexFilesystem } from '../assemble/index-filesystem.js';
import { imageArchive, slimConfig } from '../assemble/image-archive.js';
import { PristineSource } from '../assemble/pristine-source.js';
import { writeLayer } from '../assemble/write-layer.js';
import type { Probe } from '../probes/probe.js';
import { probeFailure } from '../probes/run-probes.js';
import { readTraces } from '../run/read-traces.js';
import { type ContinueAfter, exposedPorts, runTarget } from '../run/run-target.js';
import { prepareBundle, usesLoader } from '../sensor/bundle.js';
import { prepareSensorVolume } from '../sensor/sensor-volume.js';
import { TRACE_DIR } from '../sensor/tracer-command.js';
import type { TraceSummary } from '../trace/trace-summary.js';
import { verifySlim } from '../verify/verify-slim.js';
import { onInterrupt } from '../util/interrupt.js';
import { Progress, formatBytes, warn } from '../util/log.js';
import { VERSION } from '../version.js';
import { defaultOutputTag, parseRef } from './image-ref.js';
import { checkTarget, inspectOrPull } from './build-checks.js';
import type { BuildReport, StageTiming } from '../report/build-report.js';
import { seedsFromTrace } from './seeds.js';

export interface BuildOptions {
  image: string;
  tag?: string;
  force: boolean;
  pull: boolean;
  probes: Probe[];
  continueAfter: ContinueAfter;
  readyTimeoutMs: number;
  exitTimeoutMs: number;
  stopGraceSeconds: number;
  includePaths: string[];
  includeTrees: string[];
  verify: boolean;
}

export async function build(options: BuildOptions): Promise<BuildReport> {
  parseRef(options.image);
  const session = new Session();
  const stopCleanup = onInterrupt(() => session.dispose());
  const stages: StageTiming[] = [];
  const stage = async <T>(name: string, label: string, fn: (progress: Progress) => Promise<T>, detail?: (value: T) => string): Promise<T> => {
    const progress = new Progress(label);
    const started = Date.now();
    const value = await fn(progress);
    stages.push({ stage: name, ms: Date.now() - started });
    progress.done(detail?.(value));
    return value;
  };
  const started = Date.now();
  try {
    await pingEngine();
    const image = await stage('inspect', 'inspecting image', () => inspectOrPull(options));
    const outputTag = options.tag ?? defaultOutputTag(options.image);
    await checkTarget(options, image, outputTag);

    const bundle = await prepareBundle();
    const engineArch = await engineArchitecture();
    if (image.architecture && image.architecture !== bundle.architecture) {
      throw new SlimifyError(`image ${options.image} is for ${image.architecture}, but the sensor (this machine's strace) is for ${bundle.architecture}: build on a ${image.architecture} machine`, {
        code: 'usage',
        stage: 'sensor',
        image: options.image,
      });
    }
    if (engineArch && !['x86_64', 'amd64'].includes(engineArch) && bundle.architecture === 'amd64') {
      throw new SlimifyError(`the engine runs on ${engineArch}, but the sensor is built for ${bundle.architecture}`, { code: 'usage', stage: 'sensor' });
    }
    const sensorVolume = await stage('sensor', 'preparing the sensor', () => prepareSensorVolume(session, image.id, bundle));

    if (exposedPorts(image).length === 0 && options.probes.length === 0 && options.continueAfter.kind === 'probe') {
      warn(`image ${options.image} exposes no ports and no probe was given: running it until its process exits (at most ${options.exitTimeoutMs / 1000}s, --exit-timeout)`);
      options = { ...options, continueAfter: { kind: 'exit' } };
    }
    const workdir = image.config.WorkingDir || '/';
    let trace: TraceSummary | undefined;
    const traced = await stage(
      'trace',
      'tracing the app while probes run',
      () =>
        runTarget(
          {
            session,
            image,
            ref: image.id,
            probes: options.probes,
            readyTimeoutMs: options.readyTimeoutMs,
            stopGraceSeconds: options.stopGraceSeconds,
            continueAfter: options.continueAfter,
            exitTimeoutMs: options.exitTimeoutMs,
            sensor: { volume: sensorVolume, loader: usesLoader(bundle) },
            purpose: 'traced',
          },
          async (container) => {
            trace = await readTraces(await container.getArchive(TRACE_DIR), workdir);
          },
        ),
      (r) => `${r.probes.outcomes.filter((o) => o.ok).length}/${r.probes.outcomes.length} probes ok`,
    );
    if (!trace || trace.lines.total === 0) {
      throw new SlimifyError(`the sensor recorded nothing for ${options.image}: the app did not start under strace (exit code ${traced.exitCode})`, {
        code: 'target-failed',
        stage: 'trace',
        image: options.image,
        details: logTail(traced.logs),
      });
    }
    const failed = probeFailure(traced.probes, options.image);
    if (failed) {
      failed.details.push(...(traced.stayedUp ? [] : [`the container exited with code ${traced.exitCode} during the probes`]), ...logTail(traced.logs));
      throw failed;
    }
    const traceSummary = trace;

    const pristine = await PristineSource.open(session, image.id);
    const indexed = await stage(
      'index',
      'reading the image filesystem',
      async (progress) => indexFilesystem(await pristine.exportStream(), (bytes, entries) => progress.update(`${entries} entries, ${formatBytes(bytes)}`)),
      (r) => `${r.index.size} entries, ${formatBytes(r.bytes)}`,
    );
    if (indexed.refused.length) warn(`refused ${indexed.refused.length} tar entries that escape the root, e.g. ${indexed.refused[0]}`);

    const seeds = seedsFromTrace(traceSummary, image, options.includePaths);
    const closure = await stage(
      'closure',
      'computing the file set',
      () =>
        computeClosure({
          index: indexed.index,
          seeds,
          createdIn: traceSummary.created.map((c) => c.path),
          expandDirectories: options.includeTrees,
          env: envMap(image.config.Env ?? []),
          readElf: (path) => pristine.readElf(path),
          readText: (path) => pristine.readText(path),
        }),
      (r) => `${r.keep.size} paths kept`,
    );
    for (const warning of closure.warnings) warn(warning);

    const layerPath = join(await session.tempDir('layer'), 'layer.tar');
    const layer = await stage(
      'assemble',
      'writing the slim layer',
      async (progress) =>
        writeLayer(await pristine.exportStream(), new Set(closure.keep.keys()), layerPath, {
          clampMtime: new Date(image.created),
          onProgress: (bytes) => progress.update(formatBytes(bytes)),
        }),
      (r) => `${r.entries} entries, ${formatBytes(r.size)}`,
    );

    const config = slimConfig(image, options.image, layer.diffId);
    const archive = imageArchive(layerPath, layer.size, config, outputTag);
    await stage('load', `loading ${outputTag}`, () => loadImage(archive.stream));
    const slim = await inspectImage(outputTag);
    if (!slim) throw new SlimifyError(`the engine accepted the image but ${outputTag} is not there`, { stage: 'load' });

    const verification = options.verify
      ? await stage('verify', 'verifying the slim image', () =>
          verifySlim({ session, slim, probes: options.probes, traced, run: options }),
        )
      : undefined;

    const report: BuildReport = {
      slimifyVersion: VERSION,
      source: { ref: options.image, id: image.id, size: image.size },
      output: { tag: outputTag, id: slim.id, size: slim.size, layerDigest: layer.diffId },
      ratio: slim.size > 0 ? image.size / slim.size : 0,
      files: { original: indexed.files, kept: countKeptFiles(closure.keep, indexed.index), entriesKept: layer.entries },
      probeDefinitions: options.probes.map((p) => (p.kind === 'http' ? { ...p, body: p.body?.toString('utf8') } : p)),
      probes: traced.probes.outcomes,
      trace: { lines: traceSummary.lines.total, processes: traceSummary.pids, used: traceSummary.used.length, missing: traceSummary.missing.length, executed: traceSummary.executed.map((e) => e.path) },
      closure: { missing: closure.missing.map((m) => ({ path: m.path, reason: describeReason(m.reason) })), absentSeeds: closure.absent.length },
      directories: bytesByDirectory(closure.keep, indexed.index),
      stages,
      totalMs: Date.now() - started,
      readyMs: { traced: traced.probes.readyMs, slim: verification?.readyMs },
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      verification,
      kept: Object.fromEntries([...closure.keep].map(([path, reasons]) => [path, reasons.map(describeReason)])),
    };
    if (verification && !verification.passed) {
      throw new SlimifyError(`the slim image ${outputTag} does not behave like ${options.image}; it is kept for inspection`, {
        code: 'verify-failed',
        stage: 'verify',
        image: options.image,
        details: [
          ...verification.comparisons.filter((c) => !c.same).map((c) => `${c.name}: ${c.why}`),
          ...(verification.container.original !== verification.container.slim ? [`container: original ${verification.container.original}, slim ${verification.container.slim}`] : []),
          ...(verification.logs ?? []),
        ],
        cause: report,
      });
    }
    return report;
  } finally {
    stopCleanup();
    await session.dispose();
  }
}

function envMap(env: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const item of env) {
    const eq = item.indexOf('=');
    if (eq > 0) map[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return map;
}

export function logTail(logs: { stdout: string; stderr: string }): string[] {
  const lines = `${logs.stdout}${logs.stderr}`.trimEnd().split('\n').filter(Boolean).slice(-15);
  return lines.length ? ['last lines of the container output:', ...lines.map((l) => `  | ${l}`)] : [];
}

export function describeReason(reason: Reason): string {
  return [reason.kind, reason.detail, reason.from ? `(from ${reason.from})` : undefined].filter(Boolean).join(': ');
}

function countKeptFiles(keep: Map<string, Reason[]>, index: { get(path: string): { type: string } | undefined }): number {
  let files = 0;
  for (const path of keep.keys()) if (index.get(path)?.type === 'file') files++;
  return files;
}

/** Kept bytes per top-two-level directory, largest first. */
function bytesByDirectory(keep: Map<string, Reason[]>, index: { get(path: string): { type: string; size: number } | undefined }): Array<{ directory: string; bytes: number }> {
  const totals = new Map<string, number>();
  for (const path of keep.keys()) {
    const entry = index.get(path);
    if (entry?.type !== 'file') continue;
    const parts = path.split('/').filter(Boolean);
    const directory = `/${parts.slice(0, Math.min(2, parts.length - 1)).join('/')}`;
    totals.set(directory, (totals.get(directory) ?? 0) + entry.size);
  }
  return [...totals].map(([directory, bytes]) => ({ directory, bytes })).sort((a, b) => b.bytes - a.bytes || a.directory.localeCompare(b.directory)).slice(0, 15);
}
