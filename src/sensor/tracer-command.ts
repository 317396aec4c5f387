/**
 * The command lines that run things under the sensor. The main process starts as
 * `init ld.so --library-path lib strace OPTIONS -o FILE -- ENTRYPOINT+CMD`; exec probes and the
 * healthcheck run as `ld.so ... strace ... -- CMD` through `docker exec`, since they do not
 * descend from the traced process.
 */
import { SENSOR_DIR } from './bundle.js';

export const TRACE_DIR = '/.slimify-trace';
export const MAIN_TRACE = `${TRACE_DIR}/main.log`;

/** file, process and stat-family syscalls; fd paths decoded (-y); fatal signals never interrupt strace (-I3). */
export const STRACE_OPTIONS = ['-f', '-y', '-qq', '-I3', '-e', 'signal=none', '-e', 'trace=%file,%process,fchdir,getdents64,getdents'];

export function tracerArgv(traceFile: string, command: string[], loader = true): string[] {
  const strace = loader ? [`${SENSOR_DIR}/ld.so`, '--library-path', `${SENSOR_DIR}/lib`, `${SENSOR_DIR}/strace`] : [`${SENSOR_DIR}/strace`];
  return [...strace, ...STRACE_OPTIONS, '-o', traceFile, '--', ...command];
}

/** `hold`: the container stays up after the app exits, until stopped (exec probes in CLI images). */
export function mainEntrypoint(command: string[], loader = true, hold = false): string[] {
  return [`${SENSOR_DIR}/init`, ...(hold ? ['--hold'] : []), ...tracerArgv(MAIN_TRACE, command, loader)];
}

/** The app untraced under the init, held up after it exits (verification runs of such images). */
export function holdEntrypoint(command: string[]): string[] {
  return [`${SENSOR_DIR}/init`, '--hold', '--untraced', ...command];
}

export function execTraceFile(index: number): string {
  return `${TRACE_DIR}/exec-${index}.log`;
}
