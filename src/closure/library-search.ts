import type { ElfInfo } from './elf-reader.js';
import type { FsIndex } from './fs-index.js';
import { readLdSoConf, readMuslPath, type ReadText } from './ld-so-conf.js';
import { basename, dirname, join } from './paths.js';
import { resolve } from './resolve.js';

/** One loaded object, as the loader sees it: `$ORIGIN` is the directory of `path`. */
export interface LoadedObject {
  /** The path it was opened by (for the executable: its physical path, as /proc/self/exe). */
  path: string;
  info: ElfInfo;
}

export type SearchSource = 'RPATH' | 'LD_LIBRARY_PATH' | 'RUNPATH' | 'ld.so.conf' | 'musl path' | 'default';

export interface SearchDir {
  dir: string;
  source: SearchSource;
  /** The object whose RPATH/RUNPATH this is. */
  from?: string;
}

export interface LibraryResolution {
  name: string;
  /** The path the loader opens (it may cross symlinks); undefined when not found. */
  path?: string;
  /** The physical path of the file behind `path`. */
  final?: string;
  /** Where it was found. */
  source?: SearchSource | 'as is' | 'loader itself';
  /** Directories tried, in order (up to and including the one that matched). */
  searched: string[];
}

export interface LibrarySearchOptions {
  index: FsIndex;
  /** The image's environment (LD_LIBRARY_PATH). */
  env?: Record<string, string>;
  readText: ReadText;
  /** ElfInfo of a file in the image by physical path; callers should cache it. */
  readElf(path: string): Promise<ElfInfo | undefined>;
}

const PLATFORMS: Record<number, string> = { 3: 'i686', 62: 'x86_64', 183: 'aarch64', 21: 'ppc64le', 22: 's390x', 243: 'riscv64' };
const TRIPLETS: Record<number, string> = {
  3: 'i386-linux-gnu',
  62: 'x86_64-linux-gnu',
  183: 'aarch64-linux-gnu',
  40: 'arm-linux-gnueabihf',
  21: 'powerpc64le-linux-gnu',
  22: 's390x-linux-gnu',
  243: 'riscv64-linux-gnu',
};
const MUSL_ARCHES: Record<number, string> = { 3: 'i386', 62: 'x86_64', 183: 'aarch64', 40: 'armhf', 21: 'powerpc64le', 22: 's390x', 243: 'riscv64' };
/** musl answers these names with itself (`libc.so`, `libpthread.so.0`, `libc.musl-x86_64.so.1` ...). */
const MUSL_RESERVED = /^lib(c|pthread|rt|m|dl|util|xnet)\./;

/**
 * Where the dynamic loader finds each DT_NEEDED library, following glibc's order (or musl's,
 * when the executable's interpreter is `ld-musl-*`). Candidates must exist in the index and be
 * ELF files of the caller's class and machine; others are skipped, as ld.so skips them.
 */
export class LibrarySearch {
  readonly #options: LibrarySearchOptions;
  #ldSoConf: Promise<string[]> | undefined;
  readonly #muslPaths = new Map<string, Promise<string[]>>();
  readonly #found = new Map<string, Promise<{ path: string; final: string; dirIndex: number } | undefined>>();

  constructor(options: LibrarySearchOptions) {
    this.#options = options;
  }

  /**
   * Resolves `name`, needed by `caller`. `loaders` is the caller's chain of loading objects,
   * nearest first, ending with the executable (empty when the caller is the executable).
   */
  async find(name: string, caller: LoadedObject, loaders: readonly LoadedObject[] = []): Promise<LibraryResolution> {
    const main = loaders.at(-1) ?? caller;
    if (name.includes('/')) {
      // Relative names are taken against the working directory, unknown here: the root.
      const path = join('/', name);
      const final = await this.#accept(path, caller.info);
      return final === undefined ? { name, searched: [] } : { name, path, final, source: 'as is', searched: [] };
    }
    if (isMusl(main.info, caller.info) && MUSL_RESERVED.test(name)) {
      const loader = main.info.interpreter;
      const final = loader === undefined ? undefined : resolve(this.#options.index, loader).final;
      if (loader !== undefined && final !== undefined) return { name, path: loader, final, source: 'loader itself', searched: [] };
    }
    const dirs = await this.searchPath(caller, loaders);
    const key = `${caller.info.class}:${caller.info.machine}:${name}:${dirs.map((d) => d.dir).join(':')}`;
    let found = this.#found.get(key);
    if (found === undefined) {
      found = this.#firstMatch(name, dirs, caller.info);
      this.#found.set(key, found);
    }
    const match = await found;
    if (match === undefined) return { name, searched: dirs.map((d) => d.dir) };
    return {
      name,
      path: match.path,
      final: match.final,
      source: dirs[match.dirIndex]!.source,
      searched: dirs.slice(0, match.dirIndex + 1).map((d) => d.dir),
    };
  }

  /**
   * The loader chain for lookups by the libraries `object` loads: `object` joins `loaders`
   * only when its RPATH (or musl's RUNPATH/RPATH) is inherited, and the executable always stays
   * last, so long chains of libraries do not grow it.
   */
  nextLoaders(object: LoadedObject, loaders: readonly LoadedObject[]): readonly LoadedObject[] {
    if (loaders.length === 0) return [object];
    const main = loaders.at(-1)!;
    const inherited = isMusl(main.info, object.info)
      ? object.info.runpath.length > 0 || object.info.rpath.length > 0
      : object.info.runpath.length === 0 && object.info.rpath.length > 0;
    return inherited ? [object, ...loaders] : loaders;
  }

  /** The directories searched for a library needed by `caller`, in the loader's order. */
  async searchPath(caller: LoadedObject, loaders: readonly LoadedObject[] = []): Promise<SearchDir[]> {
    const main = loaders.at(-1) ?? caller;
    const chain = [caller, ...loaders];
    const dirs: SearchDir[] = [];
    const add = (list: readonly string[], source: SearchDir['source'], owner?: LoadedObject) => {
      for (const raw of list) {
        const dir = expandTokens(raw, owner ?? main);
        if (dir !== undefined) dirs.push(owner === undefined ? { dir, source } : { dir, source, from: owner.path });
      }
    };
    const libraryPath = (this.#options.env?.LD_LIBRARY_PATH ?? '').split(/[:;]/).filter((dir) => dir !== '');

    if (isMusl(main.info, caller.info)) {
      add(libraryPath, 'LD_LIBRARY_PATH');
      // musl walks up the chain of loaders, each contributing its RUNPATH, or else its RPATH.
      for (const object of chain) add(object.info.runpath.length > 0 ? object.info.runpath : object.info.rpath, 'RPATH', object);
      add(await this.#musl(muslArch(main.info, caller.info)), 'musl path');
      return dirs;
    }

    if (caller.info.runpath.length === 0) {
      for (const object of chain) if (object.info.runpath.length === 0) add(object.info.rpath, 'RPATH', object);
    }
    add(libraryPath, 'LD_LIBRARY_PATH');
    add(caller.info.runpath, 'RUNPATH', caller);
    this.#ldSoConf ??= readLdSoConf(this.#options.index, this.#options.readText);
    add(await this.#ldSoConf, 'ld.so.conf');
    add(defaultDirs(caller.info), 'default');
    return dirs;
  }

  async #firstMatch(name: string, dirs: SearchDir[], info: ElfInfo) {
    const tried = new Set<string>();
    for (const [dirIndex, { dir }] of dirs.entries()) {
      if (tried.has(dir)) continue;
      tried.add(dir);
      const path = join(dir, name);
      const final = await this.#accept(path, info);
      if (final !== undefined) return { path, final, dirIndex };
    }
    return undefined;
  }

  /** The physical path of `path` when it is a loadable library for an object like `caller`. */
  async #accept(path: string, caller: ElfInfo): Promise<string | undefined> {
    const { index, readElf } = this.#options;
    const final = resolve(index, path).final;
    if (final === undefined) return undefined;
    let entry = index.get(final);
    if (entry?.type === 'hardlink' && entry.linkname !== undefined) entry = index.get(entry.linkname);
    if (entry === undefined || (entry.type !== 'file' && entry.type !== 'hardlink')) return undefined;
    if (entry.kind === undefined) return final;
    if (entry.kind !== 'elf') return undefined;
    const info = await readElf(entry.path);
    if (info !== undefined && (info.class !== caller.class || info.machine !== caller.machine)) return undefined;
    return final;
  }

  #musl(arch: string): Promise<string[]> {
    let dirs = this.#muslPaths.get(arch);
    if (dirs === undefined) {
      dirs = readMuslPath(this.#options.index, this.#options.readText, arch);
      this.#muslPaths.set(arch, dirs);
    }
    return dirs;
  }
}

/**
 * Expands the loader's dynamic string tokens in a search directory: `$ORIGIN` (the directory
 * of `owner.path`), `$LIB` and `$PLATFORM`. Undefined when the result is unusable (unknown
 * platform, relative directory), as the loader drops such entries.
 */
export function expandTokens(dir: string, owner: LoadedObject): string | undefined {
  const lib = owner.info.class === 64 ? 'lib64' : 'lib';
  const platform = PLATFORMS[owner.info.machine];
  let usable = true;
  const expanded = dir.replace(
    /\$(?:\{(ORIGIN|LIB|PLATFORM)\}|(ORIGIN|LIB|PLATFORM)(?![A-Za-z0-9_]))/g,
    (_token, braced: string | undefined, bare: string | undefined) => {
      const token = braced ?? bare;
      if (token === 'ORIGIN') return dirname(owner.path);
      if (token === 'LIB') return lib;
      if (platform === undefined) usable = false;
      return platform ?? '';
    },
  );
  return usable && expanded.startsWith('/') ? join('/', expanded) : undefined;
}

/** The loader's built-in directories: the multiarch ones (Debian), then lib64 and lib. */
export function defaultDirs(info: ElfInfo): string[] {
  const triplet = TRIPLETS[info.machine];
  const dirs = triplet === undefined ? [] : [`/lib/${triplet}`, `/usr/lib/${triplet}`];
  if (info.class === 64) dirs.push('/lib64', '/usr/lib64');
  dirs.push('/lib', '/usr/lib');
  return dirs;
}

/** Whether the program runs under musl's loader (judged by the executable's interpreter). */
function isMusl(main: ElfInfo, caller: ElfInfo): boolean {
  if (main.interpreter !== undefined) return basename(main.interpreter).startsWith('ld-musl-');
  return caller.needed.some((name) => name.startsWith('libc.musl-') || name.startsWith('ld-musl-'));
}

function muslArch(main: ElfInfo, caller: ElfInfo): string {
  const fromLoader = /^ld-musl-(.+)\.so\.1$/.exec(basename(main.interpreter ?? ''));
  const fromLibc = caller.needed.map((name) => /^libc\.musl-(.+)\.so\.1$/.exec(name)).find((m) => m !== null);
  return fromLoader?.[1] ?? fromLibc?.[1] ?? MUSL_ARCHES[caller.machine] ?? 'x86_64';
}
