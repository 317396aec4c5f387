/**
 * What the closure starts from: every path the trace shows the app used, executed or listed,
 * the working directory and volume mount points (their owners matter at run time), and the
 * user's own includes.
 */
import type { Reason } from '../closure/closure.js';
import type { ImageInfo } from '../engine/engine.js';
import type { TraceSummary } from '../trace/trace-summary.js';

export function seedsFromTrace(trace: TraceSummary, image: ImageInfo, includePaths: string[]): Array<{ path: string; reason: Reason }> {
  const seeds: Array<{ path: string; reason: Reason }> = [];
  for (const use of trace.used) {
    const reason: Reason = { kind: 'traced', detail: use.syscalls.slice(0, 3).join(',') };
    seeds.push({ path: use.path, reason });
    for (const raw of use.raw ?? []) seeds.push({ path: raw, reason });
    for (const real of use.realPaths ?? []) seeds.push({ path: real, reason });
  }
  for (const exec of trace.executed) seeds.push({ path: exec.path, reason: { kind: 'executed' } });
  for (const dir of trace.listed) seeds.push({ path: dir, reason: { kind: 'traced', detail: 'listed' } });
  const workdir = image.config.WorkingDir;
  if (workdir) seeds.push({ path: workdir, reason: { kind: 'rule', detail: 'working directory' } });
  for (const volume of Object.keys(image.config.Volumes ?? {})) seeds.push({ path: volume, reason: { kind: 'rule', detail: 'volume mount point' } });
  for (const path of includePaths) seeds.push({ path, reason: { kind: 'include', detail: '--include-path' } });
  return seeds;
}
