/**
 * Runs the target image once, traced or not: creates the container (exposed ports published on
 * 127.0.0.1, labelled with the session), starts it, runs the probes, decides when to stop, gives
 * a traced app its stop signal and a grace period, reads its trace, and removes the container.
 */
import { randomBytes } from 'node:crypto';
import { type ImageInfo } from '../engine/engine.js';
import type { ContainerHandle, MountSource } from '../engine/container.js';
import type { Session } from '../engine/session.js';
import { SlimifyError, engineStatus } from '../errors.js';
import type { ExecProbe, Probe } from '../probes/probe.js';
import { runScript, scriptEnvironment } from '../probes/probe-script.js';
import { type ProbeRun, runProbes } from '../probes/run-probes.js';
import { SENSOR_DIR } from '../sensor/bundle.js';
import { type SensorMounts, sensorMounts } from '../sensor/sensor-mounts.js';
import { type TracerSettings, execTraceFile, holdEntrypoint, mainEntrypoint, tracerArgv } from '../sensor/tracer-command.js';
import type { TraceSummary } from '../trace/trace-summary.js';
import { readTraces, traceSource } from './read-traces.js';
import { debug, info, warn } from '../util/log.js';

export type ContinueAfter = { kind: 'probe' } | { kind: 'seconds'; seconds: number } | { kind: 'exit' } | { kind: 'signal' };

export interface RunOptions {
  session: Session;
  image: ImageInfo;
  /** image reference or id to run */
  ref: string;
  probes: Probe[];
  readyTimeoutMs: number;
  stopGraceSeconds: number;
  continueAfter: ContinueAfter;
  /** longest the app may run when waiting for it to exit */
  exitTimeoutMs: number;
  /** when set, run under the sensor: its bundle (read-only), the trace files (read-write) */
  sensor?: Sensor;
  /**
   * Keep the container up after the app exits, until the probes are done: an image whose app
   * exits at once (a CLI tool) can then still run `--exec` commands. Uses the sensor's init.
   */
  hold?: { sensor: MountSource };
  purpose: string;
  /**
   * Called as a traced app that stayed up and passed every probe is about to be stopped, with a
   * way to read its trace so far (bound trace dirs only): the build can work ahead while the app
   * shuts down.
   */
  onStopping?: (snapshot: () => Promise<TraceSummary>) => void;
}

export interface Sensor extends TracerSettings {
  mounts: SensorMounts;
}

export interface RunResult {
  probes: ProbeRun;
  /** -1 for an untraced run that was still up: it is killed, not stopped */
  exitCode: number;
  /** whether the main process was still running when slimify stopped it */
  stayedUp: boolean;
  logs: { stdout: string; stderr: string };
  /** what the sensor saw (runs with a sensor only) */
  trace?: TraceSummary;
}

export function imageCommand(image: ImageInfo): string[] {
  return [...(image.config.Entrypoint ?? []), ...(image.config.Cmd ?? [])];
}

export function exposedPorts(image: ImageInfo): string[] {
  return Object.keys(image.config.ExposedPorts ?? {}).sort();
}

function healthcheckCommand(probe: ExecProbe, image: ImageInfo): string[] {
  if (!probe.shell) return probe.command;
  const shell = image.config.Shell?.length ? image.config.Shell : ['/bin/sh', '-c'];
  return [...shell, probe.command.join(' ')];
}

export async function runTarget(options: RunOptions): Promise<RunResult> {
  const { session, image } = options;
  const command = imageCommand(image);
  if (command.length === 0) {
    throw new SlimifyError(`image ${options.ref} has no ENTRYPOINT or CMD: nothing to run`, { code: 'target-failed', stage: 'trace', image: options.ref });
  }
  const ports = exposedPorts(image);
  // names this run's trace files in the trace mount, which other runs of the build share
  const run = `${options.purpose}-${randomBytes(4).toString('hex')}`;
  const container = await session.container({
    image: options.ref,
    purpose: options.purpose,
    entrypoint: options.sensor ? mainEntrypoint(command, run, options.sensor, Boolean(options.hold)) : options.hold ? holdEntrypoint(command) : command,
    cmd: [],
    publish: ports,
    mounts: options.sensor ? sensorMounts(options.sensor.mounts) : options.hold ? [{ source: options.hold.sensor, target: SENSOR_DIR, readOnly: true }] : undefined,
    capAdd: options.sensor ? ['SYS_PTRACE'] : undefined,
    // the healthcheck runs as a (traced) exec probe instead, so its files are seen
    disableHealthcheck: true,
  });
  try {
    await startOrExplain(container, options);
    const startedAt = Date.now();
    const exited = container.wait().then(
      (r) => r.StatusCode,
      () => -1,
    );
    let done = false;
    void exited.then(() => (done = true));
    const hostPorts = new Map<number, number>();
    for (const [spec, hostPort] of Object.entries(await container.publishedPorts())) hostPorts.set(Number.parseInt(spec, 10), hostPort);
    const sensing = options.sensor ? `, traced${options.sensor.seccomp ? ' with --seccomp-bpf' : ''}` : '';
    debug(`${options.purpose}: container ${container.id.slice(0, 12)}, ports ${JSON.stringify(Object.fromEntries(hostPorts))}${sensing}`);

    let execCount = 0;
    const probes = await runProbes(
      options.probes,
      {
        ports: hostPorts,
        exited,
        exec: async (probe) => {
          if (done) return { exitCode: -1, output: 'the container had already exited' };
          const cmd = healthcheckCommand(probe, image);
          const argv = options.sensor ? tracerArgv(execTraceFile(run, ++execCount), cmd, options.sensor) : cmd;
          const result = await withTimeout(container.exec(argv), probe.timeoutMs, `${probe.name} timed out after ${probe.timeoutMs / 1000}s`);
          return { exitCode: result.exitCode, output: `${result.stdout}${result.stderr}` };
        },
        runScript: (path, timeoutMs) => runScript(path, { ...process.env, ...scriptEnvironment(hostPorts, container.id) } as Record<string, string>, timeoutMs, exited),
      },
      options.readyTimeoutMs,
      startedAt,
    );

    // an app that exits at once can be gone before its ports were looked up (no ports, so every
    // probe fails at once), and before the engine's answer to wait() has come: ask its state
    if (options.sensor && probes.outcomes.some((o) => !o.ok) && (done || !(await container.inspect()).State.Running)) {
      const exitCode = await exited;
      throw new SlimifyError(`${describeExit(options.ref, exitCode, 'before the probes could run')}: check that it starts with \`docker run ${options.ref}\` (its output is below)`, {
        code: 'target-failed',
        stage: 'trace',
        image: options.ref,
        details: outputTail(await container.logs()),
      });
    }
    await waitBeforeStop(options, exited, () => done);
    const stayedUp = !done;
    if (stayedUp && !options.sensor) {
      // nothing is compared after the probes of an untraced run: its output so far is its answer,
      // and the container is killed as it is removed, in the background
      return { probes, exitCode: -1, stayedUp, logs: await container.logs() };
    }
    if (stayedUp) {
      // a traced app gets its stop signal and grace period: what it touches on the way out is kept
      debug(`${options.purpose}: stopping with ${image.config.StopSignal ?? 'SIGTERM'}, grace ${options.stopGraceSeconds}s`);
      const traces = options.sensor?.mounts.traces;
      if (options.onStopping && traces && 'bind' in traces && probes.outcomes.every((o) => o.ok)) options.onStopping(() => readTraces({ dir: traces.bind }, image.config.WorkingDir || '/', run, { snapshot: true }));
      await container.stop(options.stopGraceSeconds);
    }
    const exitCode = await exited;
    const logs = await container.logs();
    if (options.sensor && !stayedUp && exitCode > 128 && exitCode < 160 && exitCode !== 128 + 15) {
      throw new SlimifyError(`${describeExit(options.ref, exitCode, 'under tracing')}; if it runs without slimify, report it with the output of --verbose`, {
        code: 'target-failed',
        stage: 'trace',
        image: options.ref,
        details: outputTail(logs),
      });
    }
    const trace = options.sensor ? await readTraces(await traceSource(options.sensor.mounts, container), image.config.WorkingDir || '/', run) : undefined;
    return { probes, exitCode, stayedUp, logs, trace };
  } finally {
    session.discardContainer(container.id);
  }
}

/** Starting can fail in the engine (no such executable, bad user ...): that is the target's fault, not slimify's. */
async function startOrExplain(container: ContainerHandle, options: RunOptions): Promise<void> {
  try {
    await container.start();
  } catch (error) {
    const status = engineStatus(error);
    if (status === undefined || status === 404 || status === 409) throw error;
    const reason = ((error as { json?: { message?: string } }).json?.message ?? (error as Error).message).replace(/^.*?unable to start container process: /, '');
    throw new SlimifyError(`the ${options.purpose} container of ${options.ref} could not start: ${reason}`, {
      code: options.purpose === 'verify' ? 'verify-failed' : 'target-failed',
      stage: options.purpose === 'verify' ? 'verify' : 'trace',
      image: options.ref,
      cause: error,
    });
  }
}

const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 15: 'SIGTERM' };

function describeExit(ref: string, exitCode: number, when: string): string {
  const signal = exitCode > 128 ? SIGNALS[exitCode - 128] ?? `signal ${exitCode - 128}` : undefined;
  return signal ? `the app in ${ref} crashed ${when} (killed by ${signal}, exit code ${exitCode})` : `the app in ${ref} exited ${when} with code ${exitCode}`;
}

/** The last lines of the container's output, for error details. */
export function outputTail(logs: { stdout: string; stderr: string }): string[] {
  const lines = `${logs.stdout}${logs.stderr}`.trimEnd().split('\n').filter(Boolean).slice(-15);
  return lines.length ? ['last lines of the container output:', ...lines.map((l) => `  | ${l}`)] : ['the container printed nothing'];
}

async function waitBeforeStop(options: RunOptions, exited: Promise<number>, isDone: () => boolean): Promise<void> {
  const continueAfter = options.continueAfter;
  if (continueAfter.kind === 'seconds') {
    await Promise.race([exited, delay(continueAfter.seconds * 1000)]);
  } else if (continueAfter.kind === 'exit') {
    const finished = await Promise.race([exited.then(() => true), delay(options.exitTimeoutMs).then(() => false)]);
    if (!finished) warn(`the app did not exit within ${options.exitTimeoutMs / 1000}s; stopping it (set --exit-timeout to wait longer)`);
  } else if (continueAfter.kind === 'signal') {
    if (!isDone()) {
      info(`exercise the app now; when done, ${process.stdin.isTTY ? 'press Enter or ' : ''}run: kill -USR1 ${process.pid}`);
      await waitForUserSignal(exited);
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Resolves on SIGUSR1, Enter on a terminal, or the app's exit; the listeners go away in every case. */
function waitForUserSignal(exited: Promise<unknown>): Promise<void> {
  return new Promise((resolve) => {
    const finish = () => {
      process.off('SIGUSR1', finish);
      process.stdin.off('data', finish);
      if (process.stdin.isTTY) process.stdin.pause();
      resolve();
    };
    process.on('SIGUSR1', finish);
    if (process.stdin.isTTY) {
      process.stdin.resume();
      process.stdin.once('data', finish);
    }
    void exited.then(finish, finish);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SlimifyError(message, { code: 'probe-failed', stage: 'probe' })), ms);
    }),
  ]);
}
