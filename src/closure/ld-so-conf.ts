import type { FsIndex } from './fs-index.js';
import { basename, components, dirname, join } from './paths.js';
import { resolve } from './resolve.js';

export type ReadText = (path: string) => Promise<string | undefined>;

/** Nested `include`s deeper than this are ignored (and a file is never read twice). */
const MAX_INCLUDE_DEPTH = 16;

/**
 * The library directories of glibc's `/etc/ld.so.conf`, in order, with `include` lines
 * (glob patterns, relative to the including file's directory) expanded in place against the
 * index. `hwcap` lines and comments are skipped; `dir=TYPE` suffixes are dropped.
 * Files are passed to `readText` by their physical path.
 */
export async function readLdSoConf(index: FsIndex, readText: ReadText, path = '/etc/ld.so.conf'): Promise<string[]> {
  const dirs: string[] = [];
  const seen = new Set<string>();
  const readFile = async (file: string, depth: number): Promise<void> => {
    const final = resolve(index, file).final;
    if (final === undefined || seen.has(final) || depth > MAX_INCLUDE_DEPTH) return;
    seen.add(final);
    const text = await readText(final);
    if (text === undefined) return;
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      if (line === '') continue;
      const include = /^include\s+(.*)$/.exec(line);
      if (include !== null) {
        for (const pattern of include[1]!.split(/\s+/)) {
          for (const match of expandGlob(index, join(dirname(file), pattern))) await readFile(match, depth + 1);
        }
      } else if (!/^hwcap\s/.test(line)) {
        for (const dir of line.split(/[:\s,]+/)) {
          const clean = dir.replace(/=.*$/, '');
          if (clean.startsWith('/') && !dirs.includes(join('/', clean))) dirs.push(join('/', clean));
        }
      }
    }
  };
  await readFile(path, 0);
  return dirs;
}

/**
 * The library directories of musl's loader for `arch` (from `/etc/ld-musl-<arch>.path`:
 * directories separated by newlines or colons), or musl's built-in default without that file.
 */
export async function readMuslPath(index: FsIndex, readText: ReadText, arch: string): Promise<string[]> {
  const final = resolve(index, `/etc/ld-musl-${arch}.path`).final;
  const text = final === undefined ? undefined : await readText(final);
  if (text === undefined) return ['/lib', '/usr/local/lib', '/usr/lib'];
  return text
    .split(/[:\n]/)
    .map((dir) => dir.trim())
    .filter((dir) => dir.startsWith('/'))
    .map((dir) => join('/', dir));
}

/** Existing paths matching a glob pattern (`*`, `?`, `[...]` in any component), sorted like glob(3). */
export function expandGlob(index: FsIndex, pattern: string): string[] {
  let matches = ['/'];
  for (const part of components(pattern)) {
    if (!/[*?[]/.test(part)) {
      matches = matches.map((dir) => join(dir, part));
      continue;
    }
    const regex = globToRegExp(part);
    const next: string[] = [];
    for (const dir of matches) {
      const final = resolve(index, dir).final;
      if (final === undefined) continue;
      for (const child of index.children(final)) {
        const name = basename(child);
        if (regex.test(name) && !(name.startsWith('.') && !part.startsWith('.'))) next.push(join(dir, name));
      }
    }
    matches = next;
  }
  return matches.filter((path) => resolve(index, path).final !== undefined).sort();
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close === -1) source += '\\[';
      else {
        const body = glob.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\');
        source += `[${body}]`;
        i = close;
      }
    } else source += char.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
