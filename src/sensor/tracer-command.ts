/**
 * The command lines that run things under the sensor. The main process starts as
 * `init ld.so --library-path lib strace OPTIONS -o FILE -- ENTRYPOINT+CMD`; exec probes and the
 * healthcheck run as `ld.so ... strace ... -- CMD` through `docker exec`, since they do not
 * descend from the traced process.
 *
 * Trace files go to the trace mount (world-writable: an app running as any user can write
 * there; see sensor-mounts.ts), named after the run: `<run>-main.log`, `<run>-exec-N.log`.
 * Several runs of one build (the traced run, explanation runs) share it.
 */
import { SENSOR_DIR, TRACE_DIR } from './bundle.js';

/** The trace file `name` (main.log, exec-N.log) of the run `run`. */
export function traceFile(run: string, name: string): string {
  return `${TRACE_DIR}/${run}-${name}`;
}

/** file, process and stat-family syscalls; fd paths decoded (-y); fatal signals never interrupt strace (-I3). */
export const STRACE_OPTIONS = ['-f', '-y', '-qq', '-I3', '-e', 'signal=none', '-e', 'trace=%file,%process,fchdir,getdents64,getdents'];

export interface TracerSettings {
  /** strace is started through the bundle's own loader (a dynamically linked strace) */
  loader: boolean;
  /** `--seccomp-bpf`: see seccompFilterFor */
  seccomp: boolean;
}

export function tracerArgv(traceFile: string, command: string[], settings: TracerSettings = { loader: true, seccomp: false }): string[] {
  const strace = settings.loader ? [`${SENSOR_DIR}/ld.so`, '--library-path', `${SENSOR_DIR}/lib`, `${SENSOR_DIR}/strace`] : [`${SENSOR_DIR}/strace`];
  return [...strace, ...STRACE_OPTIONS, ...(settings.seccomp ? ['--seccomp-bpf'] : []), '-o', traceFile, '--', ...command];
}

/**
 * Whether to trace with `--seccomp-bpf`: the app then stops only at the syscalls slimify traces,
 * not at every one (python-web answers its first request about twice as fast under it). The
 * price: strace sets no_new_privs on the app, so setuid and setgid bits and file capabilities
 * grant nothing on exec. That changes nothing for an app that runs as root, which is where it is
 * used; an app started as another user may rely on such a helper (sudo, su, ping), and is traced
 * without the filter. strace itself falls back to stopping at every call when the filter cannot
 * be installed.
 */
export function seccompFilterFor(user: string | undefined): boolean {
  const name = (user ?? '').split(':')[0]!;
  return name === '' || name === 'root' || name === '0';
}

/** `hold`: the container stays up after the app exits, until stopped (exec probes in CLI images). */
export function mainEntrypoint(command: string[], run: string, settings: TracerSettings, hold = false): string[] {
  return [`${SENSOR_DIR}/init`, ...(hold ? ['--hold'] : []), ...tracerArgv(traceFile(run, 'main.log'), command, settings)];
}

/** The app untraced under the init, held up after it exits (verification runs of such images). */
export function holdEntrypoint(command: string[]): string[] {
  return [`${SENSOR_DIR}/init`, '--hold', '--untraced', ...command];
}

export function execTraceFile(run: string, index: number): string {
  return traceFile(run, `exec-${index}.log`);
}
