import { SlimifyError } from '../errors.js';
import { ElfCache } from './elf-cache.js';
import type { ElfInfo } from './elf-reader.js';
import { splitShebangLine } from './file-kind.js';
import { compareStrings, type FsEntry, type FsIndex } from './fs-index.js';
import type { ReadText } from './ld-so-conf.js';
import { LibrarySearch, type LoadedObject } from './library-search.js';
import { ancestors, basename, dirname, normalise } from './paths.js';
import { resolve } from './resolve.js';
import { compareReasons, KeepSet, type Reason, type ReasonKind } from './keep-set.js';
import { ruleSeeds } from './rules.js';
import { envProgram, findCommand } from './script-interpreter.js';

export type { Reason, ReasonKind } from './keep-set.js';
export { envProgram } from './script-interpreter.js';

export interface ClosureInput {
  index: FsIndex;
  /** Traced paths (used, executed), user includes, rules. */
  seeds: Array<{ path: string; reason: Reason }>;
  /** Paths the app created: their nearest existing ancestor directories are kept. */
  createdIn?: string[];
  /** Directories kept with everything under them (`--include-path` with recursion). */
  expandDirectories?: string[];
  /** The image's environment (PATH for `#!/usr/bin/env`, LD_LIBRARY_PATH). */
  env?: Record<string, string>;
  /** The ElfInfo of a regular file of the pristine image; called at most once per path. */
  readElf(path: string): Promise<ElfInfo | undefined>;
  /** A small text file of the pristine image (ld.so.conf and friends), by physical path. */
  readText: ReadText;
  /** Extra files kept because programs usually need them; both default to on. */
  rules?: { userDatabases?: boolean; caCertificates?: boolean };
}

export interface ClosureProblem {
  path: string;
  reason: Reason;
}

export interface ClosureResult {
  /** Every path to keep (physical, sorted), with why. */
  keep: Map<string, Reason[]>;
  /** Dependencies that should exist but do not (a DT_NEEDED not found, a missing interpreter). */
  missing: ClosureProblem[];
  /** Seeds that are not in the image (files made at run time), sorted. */
  absent: ClosureProblem[];
  warnings: string[];
}

const PARENT: Reason = Object.freeze({ kind: 'parent' });
/** Kinds that only say "another kept file needs this"; the rest make an ELF a program of its own. */
const DEPENDENCY_KINDS = new Set<ReasonKind>(['parent', 'symlink', 'symlink-target', 'elf-interpreter', 'elf-needed']);

/**
 * Turns the traced paths into the complete, consistent set of paths to keep: symlinks on the
 * way and their targets, parent directories, ELF interpreters and libraries, script
 * interpreters, hardlink targets, directories the app created entries in, and the rules.
 */
export async function computeClosure(input: ClosureInput): Promise<ClosureResult> {
  return new ClosureBuilder(input).run();
}

class ClosureBuilder {
  readonly #input: ClosureInput;
  readonly #index: FsIndex;
  readonly #keep = new KeepSet();
  readonly #queue: string[] = [];
  readonly #elves: ElfCache;
  readonly #search: LibrarySearch;
  /** Paths processed once (parents, links, scripts done). */
  readonly #done = new Set<string>();
  /** ELF files analysed as programs of their own (not only as someone's library). */
  readonly #programs = new Set<string>();
  readonly #missing = new Map<string, ClosureProblem>();
  readonly #absent: ClosureProblem[] = [];
  readonly #warnings = new Set<string>();
  /** DT_NEEDED names no analysis could resolve, by requester; resolved pairs are dropped at the end. */
  readonly #unresolved = new Map<string, { requester: string; name: string; searched: string[] }>();
  readonly #resolvedPairs = new Set<string>();

  constructor(input: ClosureInput) {
    this.#input = input;
    this.#index = input.index;
    this.#elves = new ElfCache(input.readElf);
    this.#search = new LibrarySearch({
      index: input.index,
      env: input.env,
      readText: input.readText,
      readElf: (path) => this.#elves.get(path),
    });
  }

  async run(): Promise<ClosureResult> {
    const seeds = [...this.#input.seeds, ...ruleSeeds(this.#index, this.#input.rules)];
    seeds.sort((a, b) => compareStrings(a.path, b.path) || compareReasons(a.reason, b.reason));
    for (const seed of seeds) this.#keepSeed(seed.path, seed.reason);
    for (const created of [...(this.#input.createdIn ?? [])].sort(compareStrings)) this.#keepCreatedIn(created);
    for (const dir of [...(this.#input.expandDirectories ?? [])].sort(compareStrings)) this.#keepTree(dir);
    this.#prefetchElves();

    while (this.#queue.length > 0) await this.#process(this.#queue.pop()!);

    if (this.#elves.failures.length > 0) {
      const { path, error } = this.#elves.failures[0]!;
      throw new SlimifyError(`Could not read ${path} (and ${this.#elves.failures.length - 1} more ELF files) from the image.`, {
        stage: 'closure',
        cause: error,
      });
    }
    for (const [pair, { requester, name, searched }] of this.#unresolved) {
      if (this.#resolvedPairs.has(pair)) continue;
      this.#addMissing(name, { kind: 'elf-needed', detail: `needed by ${requester}`, from: requester });
      this.#warnings.add(`${name} (needed by ${requester}) not found; searched ${searched.join(', ') || 'nothing'}`);
    }
    for (const warning of this.#elves.warnings) this.#warnings.add(warning);
    return {
      keep: this.#keep.sorted(),
      missing: [...this.#missing.values()].sort(compareProblems),
      absent: this.#absent.sort(compareProblems),
      warnings: [...this.#warnings].sort(compareStrings),
    };
  }

  #keepSeed(path: string, reason: Reason): void {
    const final = this.#keepResolved(path, reason);
    if (final !== undefined) return;
    // A dangling symlink still exists as a link: keep it, the app saw it.
    if (this.#keepResolved(path, reason, false) !== undefined) {
      this.#warnings.add(`${path} is a dangling symlink in the image`);
    } else {
      this.#absent.push({ path: normalise(path), reason });
    }
  }

  #keepCreatedIn(created: string): void {
    const reason: Reason = { kind: 'created-in', detail: `the app created ${normalise(created)}` };
    for (let dir = dirname(normalise(created)); ; dir = dirname(dir)) {
      const final = resolve(this.#index, dir).final;
      if (final !== undefined && (final === '/' || this.#index.get(final)?.type === 'directory')) {
        this.#keepResolved(dir, reason);
        return;
      }
      if (dir === '/') return;
    }
  }

  #keepTree(dir: string): void {
    const reason: Reason = { kind: 'include', detail: `under ${normalise(dir)}` };
    const root = this.#keepResolved(dir, reason);
    if (root === undefined) {
      this.#warnings.add(`${dir} (to include with its contents) is not in the image`);
      return;
    }
    const pending = [root];
    while (pending.length > 0) {
      for (const child of this.#index.children(pending.pop()!)) {
        this.#keepPath(child, reason);
        if (this.#index.get(child)?.type === 'directory') pending.push(child);
      }
    }
  }

  /** Resolves `path`, keeping the directories and symlinks on the way; returns the final path. */
  #keepResolved(path: string, reason: Reason, followLast = true): string | undefined {
    const { final, symlinks, visited } = resolve(this.#index, path, { followLast });
    for (const dir of visited) this.#keepPath(dir, PARENT);
    const via: Reason = { kind: 'symlink', from: normalise(path) };
    for (const link of symlinks) if (!(reason.kind === 'symlink-target' && link === reason.from)) this.#keepPath(link, via);
    if (final !== undefined) this.#keepPath(final, reason);
    return final;
  }

  /**
   * Keeps an existing physical path and queues it when new. A library first kept only as a
   * dependency is queued again when it turns out to be a program of its own (traced, included).
   */
  #keepPath(path: string, reason: Reason): void {
    if (path === '/' && !this.#index.has('/')) return;
    if (this.#keep.add(path, reason)) this.#queue.push(path);
    else if (!DEPENDENCY_KINDS.has(reason.kind) && this.#done.has(path) && !this.#programs.has(path)) this.#queue.push(path);
  }

  /** Starts reading the ELF files kept so far, so the reads overlap (ElfCache bounds them). */
  #prefetchElves(): void {
    for (const path of this.#queue) {
      const content = this.#content(path);
      if (content?.kind === 'elf') void this.#elves.get(content.path);
    }
  }

  async #process(path: string): Promise<void> {
    if (!this.#done.has(path)) {
      this.#done.add(path);
      if (!this.#processLinks(path)) return;
    }
    const content = this.#content(path);
    if (content?.kind === 'elf') await this.#processElf(path, content.path);
  }

  /** Parents, link targets and script interpreters; false when there is nothing more to do. */
  #processLinks(path: string): boolean {
    for (const dir of ancestors(path)) if (this.#index.has(dir)) this.#keepPath(dir, PARENT);
    const entry = this.#index.get(path);
    if (entry === undefined) return false;
    if (entry.type === 'symlink') {
      // A link kept on the way of a lookup had its target kept by that same lookup.
      if (this.#keep.reasons(path).every((reason) => reason.kind === 'symlink')) return false;
      if (this.#keepResolved(path, { kind: 'symlink-target', from: path }) === undefined) {
        this.#warnings.add(`${path} -> ${entry.linkname ?? ''} is a dangling symlink in the image`);
      }
      return false;
    }
    if (entry.type === 'hardlink') {
      const target = entry.linkname ?? '';
      if (this.#index.has(target)) this.#keepPath(target, { kind: 'hardlink-target', from: path });
      else this.#addMissing(target, { kind: 'hardlink-target', from: path });
    }
    const content = this.#content(path);
    if (content?.kind === 'script' && content.shebang !== undefined) this.#processScript(path, content.shebang);
    return content?.kind === 'elf';
  }

  /** The regular-file entry holding the bytes of `path` (its hardlink target for a hardlink). */
  #content(path: string): FsEntry | undefined {
    let entry = this.#index.get(path);
    if (entry?.type === 'hardlink' && entry.linkname !== undefined) entry = this.#index.get(entry.linkname);
    return entry?.type === 'file' ? entry : undefined;
  }

  async #processElf(path: string, contentPath: string): Promise<void> {
    const isProgram = this.#keep.reasons(path).some((reason) => !DEPENDENCY_KINDS.has(reason.kind));
    if (!isProgram || this.#programs.has(path)) return;
    this.#programs.add(path);
    const info = await this.#elves.get(contentPath);
    if (info === undefined || info.isStatic) return;
    await this.#loadProgram({ path, info });
  }

  /**
   * Keeps what the loader maps for `root`: its interpreter, then its libraries breadth-first
   * (as ld.so does), each searched with the chain of objects that loaded it.
   */
  async #loadProgram(root: LoadedObject): Promise<void> {
    if (root.info.interpreter !== undefined) {
      const reason: Reason = { kind: 'elf-interpreter', detail: `interpreter of ${root.path}`, from: root.path };
      if (this.#keepResolved(root.info.interpreter, reason) === undefined) this.#addMissing(normalise(root.info.interpreter), reason);
    }
    const loaded = new Map<string, string>();
    const seen = new Set<string>([root.path]);
    const pending: Array<{ object: LoadedObject; final: string; loaders: readonly LoadedObject[] }> = [
      { object: root, final: root.path, loaders: [] },
    ];
    for (let next = 0; next < pending.length; next++) {
      const { object, final: requester, loaders } = pending[next]!;
      for (const name of object.info.needed) {
        const pair = `${requester}\0${name}`;
        const reason: Reason = { kind: 'elf-needed', detail: `needed by ${requester}`, from: requester };
        const known = loaded.get(name);
        if (known !== undefined) {
          this.#keepPath(known, reason);
          this.#resolvedPairs.add(pair);
          continue;
        }
        const found = await this.#search.find(name, object, loaders);
        const final = found.path === undefined ? undefined : this.#keepResolved(found.path, reason);
        if (found.path === undefined || final === undefined) {
          if (!this.#unresolved.has(pair)) this.#unresolved.set(pair, { requester, name, searched: found.searched });
          continue;
        }
        this.#resolvedPairs.add(pair);
        loaded.set(name, final);
        const info = await this.#elves.get(this.#content(final)?.path ?? final);
        if (info === undefined) continue;
        if (info.soname !== undefined && !loaded.has(info.soname)) loaded.set(info.soname, final);
        if (seen.has(final)) continue;
        seen.add(final);
        pending.push({ object: { path: found.path, info }, final, loaders: this.#search.nextLoaders(object, loaders) });
      }
    }
  }

  #processScript(path: string, line: string): void {
    const shebang = splitShebangLine(line);
    if (shebang === undefined) return;
    const reason: Reason = { kind: 'script-interpreter', detail: `interpreter of ${path}`, from: path };
    if (!shebang.interpreter.startsWith('/')) {
      this.#warnings.add(`${path}: relative interpreter ${shebang.interpreter} depends on the working directory; not followed`);
      return;
    }
    const final = this.#keepResolved(shebang.interpreter, reason);
    if (final === undefined) {
      this.#addMissing(normalise(shebang.interpreter), reason);
      return;
    }
    if (basename(final) !== 'env' && basename(shebang.interpreter) !== 'env') return;
    const program = envProgram(shebang.argument);
    if (program === undefined) return;
    const envReason: Reason = { kind: 'script-interpreter', detail: `run through env by ${path}`, from: path };
    const found = findCommand(this.#index, program, this.#input.env?.PATH);
    if (found === undefined) this.#addMissing(program, envReason);
    else this.#keepResolved(found, envReason);
  }

  #addMissing(path: string, reason: Reason): void {
    const key = `${path}\0${reason.kind}\0${reason.from ?? ''}`;
    if (!this.#missing.has(key)) this.#missing.set(key, { path, reason });
  }
}

function compareProblems(a: ClosureProblem, b: ClosureProblem): number {
  return compareStrings(a.path, b.path) || compareReasons(a.reason, b.reason);
}
