import { compareStrings } from './fs-index.js';

export type ReasonKind =
  | 'traced'
  | 'executed'
  | 'symlink'
  | 'symlink-target'
  | 'parent'
  | 'elf-interpreter'
  | 'elf-needed'
  | 'script-interpreter'
  | 'hardlink-target'
  | 'created-in'
  | 'rule'
  | 'include';

/** Why a path is kept. */
export interface Reason {
  kind: ReasonKind;
  /** Human words: 'needed by /usr/sbin/nginx', 'user database', 'CA certificates'. */
  detail?: string;
  /** The kept path that caused this one to be kept. */
  from?: string;
}

/**
 * A few examples per kind are enough to explain a path: libc is needed by every binary, and
 * `/lib -> usr/lib` is on the way to every library. This bounds memory on big images.
 */
export const MAX_REASONS_PER_KIND = 5;

/** Kept paths with their reasons, deduplicated. */
export class KeepSet {
  readonly #reasons = new Map<string, Reason[]>();

  /** Records `reason` for `path`; true when the path was not kept before. */
  add(path: string, reason: Reason): boolean {
    const list = this.#reasons.get(path);
    if (list === undefined) {
      this.#reasons.set(path, [reason]);
      return true;
    }
    let sameKind = 0;
    for (const known of list) {
      if (known.kind !== reason.kind) continue;
      if (known.detail === reason.detail && known.from === reason.from) return false;
      sameKind += 1;
    }
    if (sameKind < MAX_REASONS_PER_KIND) list.push(reason);
    return false;
  }

  has(path: string): boolean {
    return this.#reasons.has(path);
  }

  reasons(path: string): readonly Reason[] {
    return this.#reasons.get(path) ?? [];
  }

  /** Paths in code-unit order, each with its reasons sorted by kind, origin and detail. */
  sorted(): Map<string, Reason[]> {
    const out = new Map<string, Reason[]>();
    for (const path of [...this.#reasons.keys()].sort(compareStrings)) {
      out.set(path, [...this.#reasons.get(path)!].sort(compareReasons));
    }
    return out;
  }
}

export function compareReasons(a: Reason, b: Reason): number {
  return (
    compareStrings(a.kind, b.kind) || compareStrings(a.from ?? '', b.from ?? '') || compareStrings(a.detail ?? '', b.detail ?? '')
  );
}
