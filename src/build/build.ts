/**
 * `slimify build`: the whole pipeline, stage by stage (see README, "Architecture"):
 * inspect -> sensor -> traced run + probes -> parse -> index -> closure -> assemble -> load ->
 * verify -> report. Every container, volume and temp dir belongs to one Session and is removed
 * whatever happens.
 */
import { join } from 'node:path';
import { type Readable, Transform, pipeline } from 'node:stream';
import { computeClosure } from '../closure/closure.js';
import { type ImageInfo, engineFacts, inspectImage, loadImage, pingEngine, removeImage } from '../engine/engine.js';
import { Session } from '../engine/session.js';
import { SlimifyError } from '../errors.js';
import { copyDirectory, ensureRoom } from '../assemble/export-copy.js';
import { imageArchive, slimConfig } from '../assemble/image-archive.js';
import { type PristineFilesystem, readPristine, requestedReadWay } from '../assemble/pristine-source.js';
import { mountUnavailable, readMounted } from '../assemble/mounted-filesystem.js';
import { readInContainer } from '../assemble/container-filesystem.js';
import { layerStream, planLayer } from '../assemble/write-layer.js';
import type { Probe } from '../probes/probe.js';
import { probeFailure } from '../probes/run-probes.js';
import { type ContinueAfter, type RunResult, exposedPorts, outputTail, runTarget } from '../run/run-target.js';
import { prepareBundle, usesLoader } from '../sensor/bundle.js';
import { prepareSensorMounts } from '../sensor/sensor-mounts.js';
import { seccompFilterFor } from '../sensor/tracer-command.js';
import type { TraceSummary } from '../trace/trace-summary.js';
import { type MissingPath, includeFlags, mergeMissing, pathsMissingFromSlim, pathsUsedButNotKept } from '../verify/missing-paths.js';
import { type Verification, type VerifyInput, referenceRun, traceOriginal, traceSlim, verifySlim } from '../verify/verify-slim.js';
import { onInterrupt } from '../util/interrupt.js';
import { Progress, debug, formatBytes, info, warn } from '../util/log.js';
import { VERSION } from '../version.js';
import { outputTag as outputTagFor, parseRef } from './image-ref.js';
import { checkTarget, inspectOrPull } from './build-checks.js';
import { type BuildReport, type RepairRound, type StageTiming } from '../report/build-report.js';
import { bytesByDirectory, countKeptFiles, describeReason } from '../report/kept-summary.js';
import { verifyFailed } from '../verify/verify-error.js';
import { type Inclusions, type Seed, applyExcludes, inclusionSeeds, modeOverrides, seedsFromTrace } from './seeds.js';

export interface BuildOptions {
  image: string;
  /** the image, when the caller has inspected it already */
  inspected?: ImageInfo;
  tag?: string;
  force: boolean;
  pull: boolean;
  probes: Probe[];
  continueAfter: ContinueAfter;
  readyTimeoutMs: number;
  exitTimeoutMs: number;
  stopGraceSeconds: number;
  includeTrees: string[];
  inclusions: Inclusions;
  /** globs of paths dropped after the closure */
  excludes: string[];
  verify: boolean;
  /** held back from the traced run so they can reveal what it missed */
  verifyProbes: Probe[];
  autoInclude: boolean;
  autoIncludeRounds: number;
}

export async function build(options: BuildOptions): Promise<BuildReport> {
  parseRef(options.image);
  const outputTag = outputTagFor(options.tag, options.image);
  const session = new Session();
  const stopCleanup = onInterrupt(() => session.dispose());
  const stages: StageTiming[] = [];
  const stage = async <T>(name: string, label: string, fn: (progress: Progress) => Promise<T>, detail?: (value: T) => string, background = false): Promise<T> => {
    const progress = new Progress(label, background);
    const startedAt = Date.now();
    const value = await fn(progress).catch((error: unknown) => {
      progress.stop();
      throw error;
    });
    stages.push({ stage: name, ms: Date.now() - startedAt, startMs: startedAt - started });
    progress.done(detail?.(value));
    return value;
  };
  const started = Date.now();
  // finding the sensor's files (ldd) runs in a child process while the engine client loads
  const bundling = prepareBundle();
  bundling.catch(() => undefined);
  let removingCopy: Promise<void> | undefined;
  /** the slim layer made ahead of the traced app's exit, until the build takes it or drops it */
  let ahead: Promise<{ paths: string; layer: { diffId: string; imageId: string; entries: number } } | undefined> | undefined;
  let dropping: Promise<void> | undefined;
  try {
    if (!options.inspected) await pingEngine();
    const image = options.inspected ?? (await stage('inspect', 'inspecting image', () => inspectOrPull(options)));
    const replaced = await checkTarget(options, image, outputTag);

    // the image's filesystem is read from now on, while the sensor is set up and the app traced:
    // nothing before the closure needs it. Where the engine mounts it when it can (see
    // mounted-filesystem.ts), else from inside a container of the image (container-filesystem.ts),
    // both once the sensor is there; else a copy of the export, which starts at once.
    const readWay = requestedReadWay();
    const engine = await engineFacts();
    const mountReason = readWay === 'export' || readWay === 'container' ? `SLIMIFY_READ=${readWay}` : mountUnavailable(image, { uid: process.getuid?.(), dockerHost: process.env.DOCKER_HOST, userns: engine.userns });
    if (readWay === 'mount' && mountReason) throw new SlimifyError(`SLIMIFY_READ=mount, but ${mountReason}`, { code: 'usage', stage: 'index' });
    /** why the build did not read the image where the engine mounts it, or inside a container */
    let slowerReason = mountReason;
    const readStage = (read: (progress: Progress) => Promise<PristineFilesystem>) =>
      stage('index', 'reading the image filesystem', read, (r) => `${r.index.size} entries, ${formatBytes(r.bytes)} (${READ_VIA[r.via]})`, true);
    // where the export's copy goes, once there is room for it (see copyDirectory)
    const roomForCopy = async () => {
      const copyDir = await copyDirectory(image.size);
      await ensureRoom(copyDir, image.size);
      return copyDir;
    };
    const exported = (copyDir: string, progress: Progress) => {
      debug(`reading the image filesystem through docker export: ${slowerReason}`);
      return readPristine(session, image.id, { copy: copyDir, onProgress: (bytes, entries) => progress.update(`${entries} entries, ${formatBytes(bytes)}`) });
    };
    /** reads it the `way` asked for; a way slimify chose falls back to the next one when it fails */
    const fallBack = (way: 'mount' | 'container', read: Promise<PristineFilesystem>, next: () => Promise<PristineFilesystem>) =>
      read.catch((error: unknown) => {
        if (session.closing) throw error;
        const failure = `reading the image ${way === 'mount' ? 'where the engine mounts it' : 'inside a container'} failed: ${(error as Error).message}`;
        if (readWay === way) throw new SlimifyError(`SLIMIFY_READ=${way}, but ${failure}`, { stage: 'index', cause: error });
        slowerReason = failure;
        debug(`${failure}: trying the next way`);
        return next();
      });
    let reading: Promise<PristineFilesystem> | undefined;
    if (readWay === 'export') {
      // the room check fails the build before the trace, not after it
      const copyDir = await roomForCopy();
      reading = readStage((progress) => exported(copyDir, progress));
      // awaited after the trace; a failure of the trace first must not leave it unhandled
      reading.catch(() => undefined);
    }
    const bundle = await bundling;
    if (image.architecture && image.architecture !== bundle.architecture) {
      throw new SlimifyError(`image ${options.image} is for ${image.architecture}, but the sensor (this machine's strace) is for ${bundle.architecture}: build on a ${image.architecture} machine, or point DOCKER_HOST at an engine on one`, {
        code: 'usage',
        stage: 'sensor',
        image: options.image,
      });
    }
    if (engine.architecture && !['x86_64', 'amd64'].includes(engine.architecture) && bundle.architecture === 'amd64') {
      throw new SlimifyError(`the engine runs on ${engine.architecture}, but the sensor is built for ${bundle.architecture}`, { code: 'usage', stage: 'sensor' });
    }
    const mounts = await stage('sensor', 'preparing the sensor', () => prepareSensorMounts(session, image.id, bundle));
    if (!reading) {
      const inContainer = async (progress: Progress) => {
        debug(`reading the image filesystem inside a container: ${slowerReason}`);
        const copyFile = join(await session.tempDir('copy', await copyDirectory(image.size)), 'files');
        return fallBack('container', readInContainer(session, image, mounts.sensor, copyFile), async () => exported(await roomForCopy(), progress));
      };
      reading = readStage((progress) => (mountReason ? inContainer(progress) : fallBack('mount', readMounted(session, image, mounts.sensor), () => inContainer(progress))));
      reading.catch(() => undefined);
    }

    const sensor = { mounts, loader: usesLoader(bundle), seccomp: seccompFilterFor(image.config.User) };
    // an app without ports that exits at once (a CLI tool) would take its container with it: hold it up for --exec
    const hold = exposedPorts(image).length === 0 && [...options.probes, ...options.verifyProbes].some((p) => p.kind === 'exec') ? { sensor: mounts.sensor } : undefined;

    if (exposedPorts(image).length === 0 && options.probes.length === 0 && options.continueAfter.kind === 'probe') {
      warn(`image ${options.image} exposes no ports and no probe was given: running it until its process exits (at most ${options.exitTimeoutMs / 1000}s, --exit-timeout)`);
      options = { ...options, continueAfter: { kind: 'exit' } };
    }
    // the file set and the slim layer, from a trace and the image's filesystem
    const fileSet = async (trace: TraceSummary, indexed: PristineFilesystem, extra: Seed[]) => {
      const closure = await computeClosure({
        index: indexed.index,
        seeds: [...seedsFromTrace(trace, image), ...inclusionSeeds(options.inclusions, indexed.index), ...extra],
        createdIn: trace.created.map((c) => c.path),
        expandDirectories: [...options.includeTrees, ...options.inclusions.preservePaths],
        env: envMap(image.config.Env ?? []),
        readElf: (path) => indexed.copy!.readElf(path),
        readText: (path) => indexed.copy!.readText(path),
      });
      return { closure, exclusion: applyExcludes(closure.keep, options.excludes, options.inclusions.preservePaths) };
    };
    const planAndLoad = async (indexed: PristineFilesystem, keep: Iterable<string>, suffix: string) => {
      const kept = [...keep];
      const plan = await stage(
        `assemble${suffix}`,
        `planning the slim layer${suffix}`,
        async () => {
          // read inside a container, the kept files are asked for here and come while the layer is
          // written (each waited for when its turn comes: range().ready); a failure fails the load
          indexed.copy!.prepare(kept).catch(() => undefined);
          return planLayer({ index: indexed.index, headers: indexed.headers, content: (path) => indexed.copy!.range(path) }, kept, { clampMtime: new Date(image.created), modes: modeOverrides(options.inclusions, indexed.index) });
        },
        (r) => `${r.entries.length} entries, ${formatBytes(r.size)}`,
      );
      // the layer streams from the image's files straight into the engine, hashed on the way
      const archive = imageArchive({ stream: layerStream(plan), size: plan.size }, (diffId) => slimConfig(image, options.image, diffId), outputTag);
      await stage(`load${suffix}`, `writing the slim layer into the engine as ${outputTag}`, (progress) => loadImage(counted(archive.stream, (bytes) => progress.update(formatBytes(bytes)))), () => formatBytes(plan.size));
      return { ...(await archive.ids), entries: plan.entries.length };
    };
    // Working ahead: while a traced app that stayed up shuts down (python-web: 0.7 s), the file set
    // of its trace so far is computed and its layer loaded. The final trace decides: the same kept
    // paths give the same layer byte for byte (the plan is a function of them), so it is kept;
    // otherwise it is loaded again from the final file set and the early image removed.
    const workAhead = (snapshot: () => Promise<TraceSummary>) => {
      ahead = (async () => {
        const [partial, indexed] = await Promise.all([snapshot(), reading!]);
        const { exclusion } = await fileSet(partial, indexed, []);
        return { paths: keptPaths(exclusion.keep), layer: await planAndLoad(indexed, exclusion.keep.keys(), '') };
      })().catch((error: unknown) => {
        debug(`working ahead of the app's exit failed, so the layer is made after it: ${(error as Error).message}`);
        return undefined;
      });
    };
    const traced = await stage(
      'trace',
      'tracing the app while probes run',
      () =>
        runTarget({
          session,
          image,
          ref: image.id,
          probes: options.probes,
          readyTimeoutMs: options.readyTimeoutMs,
          stopGraceSeconds: options.stopGraceSeconds,
          continueAfter: options.continueAfter,
          exitTimeoutMs: options.exitTimeoutMs,
          sensor,
          hold,
          purpose: 'traced',
          onStopping: workAhead,
        }),
      (r) => `${r.probes.outcomes.filter((o) => o.ok).length}/${r.probes.outcomes.length} probes ok`,
    );
    const trace = traced.trace;
    if (!trace || trace.lines.total === 0) {
      throw new SlimifyError(`the sensor recorded nothing for ${options.image}: the app did not start under strace (exit code ${traced.exitCode})`, {
        code: 'target-failed',
        stage: 'trace',
        image: options.image,
        details: outputTail(traced.logs),
      });
    }
    const failed = probeFailure(traced.probes, options.image);
    if (failed) {
      failed.details.push(...(traced.stayedUp ? [] : [`the container exited with code ${traced.exitCode} during the probes`]), ...outputTail(traced.logs));
      throw failed;
    }
    const traceSummary = trace;

    const indexed = await reading;
    const pristine = indexed.copy!;
    if (indexed.refused.length) warn(`refused ${indexed.refused.length} tar entries that escape the root, e.g. ${indexed.refused[0]}`);

    const runSettings = { readyTimeoutMs: options.readyTimeoutMs, stopGraceSeconds: options.stopGraceSeconds, continueAfter: options.continueAfter, exitTimeoutMs: options.exitTimeoutMs, hold };
    const autoIncluded: Seed[] = [];
    const rounds: RepairRound[] = [];
    let reference: RunResult | undefined;
    let previousId: string | undefined;
    let explanation: BuildReport['explanation'];
    let originalTrace: TraceSummary | undefined;
    for (let round = 0; ; round++) {
      const suffix = round === 0 ? '' : ` (round ${round})`;
      const { closure, exclusion } = await stage(`closure${suffix}`, `computing the file set${suffix}`, () => fileSet(traceSummary, indexed, autoIncluded), (r) => `${r.exclusion.keep.size} paths kept`);
      if (round === 0) {
        for (const warning of closure.warnings) warn(warning);
        if (exclusion.droppedTraced.length) warn(`--exclude drops ${exclusion.droppedTraced.length} paths the app used (e.g. ${exclusion.droppedTraced.slice(0, 3).join(', ')}): the slim image will probably miss them`);
      }
      const early = round === 0 ? await ahead : undefined;
      let layer: Awaited<ReturnType<typeof planAndLoad>>;
      if (early && early.paths === keptPaths(exclusion.keep)) {
        debug('the slim layer made ahead of the app\'s exit holds the files of the final trace: it stays');
        layer = early.layer;
        ahead = undefined;
      } else {
        if (early) {
          debug('the app touched more on its way out than the trace so far showed: the slim layer is made again');
          previousId = early.layer.imageId;
        }
        ahead = undefined;
        layer = await planAndLoad(indexed, exclusion.keep.keys(), suffix);
      }
      // without repair rounds nothing reads the copy again (the explanation needs only the index)
      if (!options.autoInclude) removingCopy ??= pristine.remove().catch(() => undefined);
      const slim = await inspectImage(outputTag);
      if (!slim) throw new SlimifyError(`the engine accepted the image but ${outputTag} is not there`, { stage: 'load' });
      // the previous round's image lost its tag to this one: once its verify and explain
      // containers are gone (they are removed in the background), nothing refers to it
      if (previousId && previousId !== slim.id) {
        await session.removed();
        await removeImage(previousId);
      }
      previousId = slim.id;
      // the image that had the tag (--force) has lost it to this one: it goes while verification
      // runs, unless it is the same image (same input, same id) or still in use (then it keeps
      // its other tags or stays, untagged, as docker leaves it)
      if (replaced && replaced !== slim.id) dropping ??= removeImage(replaced).catch(() => undefined);

      let verification: Verification | undefined;
      let missing: MissingPath[] = [];
      if (options.verify) {
        if (round === 0 && options.verifyProbes.length > 0) {
          reference = await stage('reference', 'running the original with the verification probes', () => referenceRun(session, image, [...options.probes, ...options.verifyProbes], runSettings));
        }
        const verifyInput: VerifyInput = { session, slim, probes: options.probes, verifyProbes: options.verifyProbes, traced, reference, run: runSettings };
        verification = await stage(`verify${suffix}`, `verifying the slim image${suffix}`, () => verifySlim(verifyInput), (v) => (v.passed ? 'passed' : 'FAILED'));
        if (!verification.passed) {
          missing = await stage(`explain${suffix}`, 'tracing the slim image and the original to see what the slim image misses', async () => {
            const fail = (what: string) => (error: unknown) => {
              warn(`the traced re-run of ${what} failed, so slimify cannot say all that the slim image misses: ${(error as Error).message}`);
              return undefined;
            };
            const again = await traceSlim(verifyInput, sensor).catch(fail('the slim image'));
            const lookups = again?.trace ? pathsMissingFromSlim({ slimMissing: again.trace.missing, originalMissing: traceSummary.missing, original: indexed.index }) : [];
            // only verification-only probes can make the original use what the build's trace did not see
            originalTrace ??= options.verifyProbes.length ? await traceOriginal(verifyInput, image, sensor).catch(fail('the original')) : undefined;
            const unkept = originalTrace ? pathsUsedButNotKept({ originalUsed: [...originalTrace.used, ...originalTrace.executed.map((e) => ({ path: e.path, syscalls: ['execve'] }))], original: indexed.index, kept: new Set(exclusion.keep.keys()) }) : [];
            return mergeMissing(lookups, unkept);
          }, (m) => `${m.length} paths`);
          explanation = { missing, flags: includeFlags(missing) };
        }
      }
      if (round > 0) rounds[round - 1] = { ...rounds[round - 1]!, outputId: slim.id, size: slim.size, verification: verification! };

      const already = new Set(autoIncluded.map((s) => s.path));
      const fresh = missing.filter((m) => !already.has(m.path));
      const done = !verification || verification.passed || !options.autoInclude || round >= options.autoIncludeRounds || fresh.length === 0;
      if (!done) {
        const next = round + 1;
        for (const m of fresh) autoIncluded.push({ path: m.path, reason: { kind: 'include', detail: `auto-include round ${next}` } });
        rounds.push({ round: next, added: fresh.map((m) => m.path), outputId: '', size: 0, verification: verification! });
        info(`auto-include round ${next}: adding ${fresh.length} paths the slim image looked for`);
        continue;
      }
      const report: BuildReport = {
        slimifyVersion: VERSION,
        source: { ref: options.image, id: image.id, size: image.size },
        output: { tag: outputTag, id: slim.id, size: slim.size, layerDigest: layer.diffId },
        ratio: slim.size > 0 ? image.size / slim.size : 0,
        files: { original: indexed.files, kept: countKeptFiles(exclusion.keep, indexed.index), entriesKept: layer.entries },
        filesystem: { via: indexed.via, reason: indexed.via === 'mount' ? undefined : slowerReason },
        probeDefinitions: options.probes.map(probeDefinition),
        verifyProbeDefinitions: options.verifyProbes.map(probeDefinition),
        probes: traced.probes.outcomes,
        trace: { lines: traceSummary.lines.total, processes: traceSummary.pids, used: traceSummary.used.length, missing: traceSummary.missing.length, executed: traceSummary.executed.map((e) => e.path) },
        closure: { missing: closure.missing.map((m) => ({ path: m.path, reason: describeReason(m.reason) })), absentSeeds: closure.absent.length },
        directories: bytesByDirectory(exclusion.keep, indexed.index),
        stages,
        totalMs: Date.now() - started,
        readyMs: { traced: traced.probes.readyMs, slim: verification?.readyMs },
        peakRssBytes: process.resourceUsage().maxRSS * 1024,
        verification,
        explanation,
        repair: options.autoInclude ? { rounds } : undefined,
        excluded: options.excludes.length ? { patterns: options.excludes, dropped: exclusion.dropped.length, droppedTraced: exclusion.droppedTraced } : undefined,
        kept: Object.fromEntries([...exclusion.keep].map(([path, reasons]) => [path, reasons.map(describeReason)])),
      };
      if (verification && !verification.passed) throw verifyFailed(report, verification, options, outputTag, missing);
      return report;
    }
  } catch (error) {
    // a layer made ahead that the build did not get to use (a failure after it was loaded) goes
    const unused = await ahead;
    if (unused) await removeImage(unused.layer.imageId).catch(() => undefined);
    throw error;
  } finally {
    stopCleanup();
    await removingCopy;
    await dropping;
    await session.dispose();
  }
}

/** How the index stage says where it read the image. */
const READ_VIA: Record<PristineFilesystem['via'], string> = { mount: 'where the engine mounts it', container: 'inside a container', export: 'exported' };

/** Passes a stream through, reporting the bytes seen so far. */
function counted(stream: Readable, onBytes: (bytes: number) => void): Readable {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      onBytes(bytes);
      callback(null, chunk);
    },
  });
  // pipeline, not pipe: an error in the archive must reach the load request
  pipeline(stream, counter, () => undefined);
  return counter;
}

function probeDefinition(p: Probe): Omit<Probe, 'body'> & { body?: string } {
  return p.kind === 'http' ? { ...p, body: p.body?.toString('utf8') } : p;
}

/** The kept paths, sorted, as one string: two file sets with the same key make the same layer. */
function keptPaths(keep: ReadonlyMap<string, unknown>): string {
  return [...keep.keys()].sort().join('\0');
}

function envMap(env: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const item of env) {
    const eq = item.indexOf('=');
    if (eq > 0) map[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return map;
}

