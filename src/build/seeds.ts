/**
 * What the closure starts from and what is dropped after it: every path the trace shows the app
 * used, executed or listed, the working directory and volume mount points (their owners matter
 * at run time), the user's inclusion flags, and the user's exclusions.
 */
import type { Reason } from '../closure/closure.js';
import type { FsIndex } from '../closure/fs-index.js';
import { isWithin, normalise } from '../closure/paths.js';
import { resolve } from '../closure/resolve.js';
import type { ImageInfo } from '../engine/engine.js';
import { SlimifyError } from '../errors.js';
import type { TraceSummary } from '../trace/trace-summary.js';

export interface Seed {
  path: string;
  reason: Reason;
}

export interface IncludePath {
  path: string;
  /** permission bits that replace the kept entry's own */
  mode?: number;
  /** the flag it came from, for the report */
  from: string;
}

export interface Inclusions {
  includePaths: IncludePath[];
  includeBins: string[];
  includeShell: boolean;
  /** kept with everything under them, as in the original image */
  preservePaths: string[];
}

export function seedsFromTrace(trace: TraceSummary, image: ImageInfo): Seed[] {
  const seeds: Seed[] = [];
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
  return seeds;
}

/** `PATH` or `PATH:MODE` with MODE in octal (`/app/run.sh:0755`); a colon inside PATH stays. */
export function parseIncludePath(spec: string, from = '--include-path'): IncludePath {
  const match = /^(.*):([0-7]{3,4})$/.exec(spec);
  const path = match ? match[1]! : spec;
  if (!path.startsWith('/')) throw new SlimifyError(`${from} "${spec}": expected an absolute PATH, optionally followed by :MODE in octal (e.g. /app/run.sh:0755)`, { code: 'usage' });
  return match ? { path: normalise(path), mode: Number.parseInt(match[2]!, 8), from } : { path: normalise(path), from };
}

/** One PATH[:MODE] per line; blank lines and `#` comments are skipped. */
export function parseIncludePathFile(text: string, file: string): IncludePath[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => parseIncludePath(line, `--include-path-file ${file}`));
}

/** A shell and the tools people reach for when they `docker exec` into a container. */
const SHELL_TOOLS = ['sh', 'bash', 'ls', 'cat', 'cp', 'mv', 'rm', 'mkdir', 'rmdir', 'ln', 'chmod', 'chown', 'touch', 'echo', 'sed', 'grep', 'env', 'ps', 'head', 'tail', 'find', 'test', '['];
const BIN_DIRS = ['/bin', '/usr/bin', '/sbin', '/usr/sbin', '/usr/local/bin'];

/**
 * Every SHELL_TOOLS program the image has, by the first path that reaches it (links such as
 * `/bin -> usr/bin` and `/bin/sh -> dash` are kept by the closure on the way to the file).
 */
export function shellPaths(index: FsIndex): string[] {
  const found: string[] = [];
  for (const tool of SHELL_TOOLS) {
    const path = BIN_DIRS.map((dir) => `${dir}/${tool}`).find((p) => resolve(index, p).final !== undefined);
    if (path) found.push(path);
  }
  return found;
}

export function inclusionSeeds(inclusions: Inclusions, index: FsIndex): Seed[] {
  const seeds: Seed[] = [];
  for (const include of inclusions.includePaths) seeds.push({ path: include.path, reason: { kind: 'include', detail: include.mode === undefined ? include.from : `${include.from} (mode ${include.mode.toString(8)})` } });
  for (const bin of inclusions.includeBins) seeds.push({ path: normalise(bin), reason: { kind: 'include', detail: '--include-bin' } });
  if (inclusions.includeShell) for (const path of shellPaths(index)) seeds.push({ path, reason: { kind: 'include', detail: '--include-shell' } });
  for (const path of inclusions.preservePaths) seeds.push({ path: normalise(path), reason: { kind: 'include', detail: '--preserve-path' } });
  return seeds;
}

/** Permission bits to set in the layer, by physical path (a MODE given on a symlink applies to the file it leads to). */
export function modeOverrides(inclusions: Inclusions, index: FsIndex): Map<string, number> {
  const modes = new Map<string, number>();
  for (const include of inclusions.includePaths) {
    if (include.mode === undefined) continue;
    modes.set(resolve(index, include.path).final ?? include.path, include.mode);
  }
  return modes;
}

/**
 * A glob as a RegExp over absolute paths: `*` and `?` stay within one component, `**` crosses
 * them, `[...]` is a character class. A pattern that matches a directory matches what is under it.
 */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          source += '(?:.*/)?';
        } else {
          source += '.*';
        }
      } else {
        source += '[^/]*';
      }
    } else if (c === '?') {
      source += '[^/]';
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        source += '\\[';
      } else {
        const body = pattern.slice(i + 1, end);
        source += `[${body.startsWith('!') ? `^${body.slice(1)}` : body.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else {
      source += c.replace(/[.+^${}()|\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}(?:/.*)?$`);
}

export interface Exclusion {
  keep: Map<string, Reason[]>;
  /** paths dropped, sorted */
  dropped: string[];
  /** dropped paths the app itself used: the slim image will probably miss them */
  droppedTraced: string[];
}

/** Drops kept paths matching any pattern, except preserved paths and the root. */
export function applyExcludes(keep: Map<string, Reason[]>, patterns: readonly string[], preserved: readonly string[] = []): Exclusion {
  if (patterns.length === 0) return { keep, dropped: [], droppedTraced: [] };
  const globs = patterns.map((p) => globToRegExp(p.startsWith('/') ? p : `**/${p}`));
  const out = new Map<string, Reason[]>();
  const dropped: string[] = [];
  const droppedTraced: string[] = [];
  for (const [path, reasons] of keep) {
    const excluded = path !== '/' && globs.some((g) => g.test(path)) && !preserved.some((p) => isWithin(path, normalise(p)));
    if (!excluded) {
      out.set(path, reasons);
      continue;
    }
    dropped.push(path);
    if (reasons.some((r) => r.kind === 'traced' || r.kind === 'executed')) droppedTraced.push(path);
  }
  return { keep: out, dropped: dropped.sort(), droppedTraced: droppedTraced.sort() };
}
