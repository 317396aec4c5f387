/**
 * The command lines that run things under the sensor. The main process starts as
 * `init ld.so --library-path lib strace OPTIONS -o FILE -- ENTRYPOINT+CMD`; exec probes and the
 * healthcheck run as `ld.so ... strace ... -- CMD` through `docker exec`, since they do not
 * descend from the traced process.
 *
 * Trace files go to the trace volume (world-writable: an app running as any user can write
 * there), named after the run: `<run>-main.log`, `<run>-exec-N.log`. Several runs of one build
 * (the traced run, explanation runs) share the volume.
 */
import { SENSOR_DIR, TRACE_DIR } from './bundle.js';

export { TRACE_DIR };

/** The trace file `name` (main.log, exec-N.log) of the run `run`. */
export function traceFile(run: string, name: string): string {
  return `${TRACE_DIR}/${run}-${name}`;
}

/** file, process and stat-family syscalls; fd paths decoded (-y); fatal signals never interrupt strace (-I3). */
export const STRACE_OPTIONS = ['-f', '-y', '-qq', '-I3', '-e', 'signal=none', '-e', 'trace=%file,%process,fchdir,getdents64,getdents'];

export function tracerArgv(traceFile: string, command: string[], loader = true): string[] {
  const strace = loader ? [`${SENSOR_DIR}/ld.so`, '--library-path', `${SENSOR_DIR}/lib`, `${SENSOR_DIR}/strace`] : [`${SENSOR_DIR}/strace`];
  return [...strace, ...STRACE_OPTIONS, '-o', traceFile, '--', ...command];
}

/** `hold`: the container stays up after the app exits, until stopped (exec probes in CLI images). */
export function mainEntrypoint(command: string[], run: string, loader = true, hold = false): string[] {
  return [`${SENSOR_DIR}/init`, ...(hold ? ['--hold'] : []), ...tracerArgv(traceFile(run, 'main.log'), command, loader)];
}

/** The app untraced under the init, held up after it exits (verification runs of such images). */
export function holdEntrypoint(command: string[]): string[] {
  return [`${SENSOR_DIR}/init`, '--hold', '--untraced', ...command];
}

export function execTraceFile(run: string, index: number): string {
  return traceFile(run, `exec-${index}.log`);
}
