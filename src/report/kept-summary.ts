/**
 * Figures about the kept file set for the report: reasons in words, files kept, bytes by directory.
 */
import type { Reason } from '../closure/closure.js';
import type { FsIndex } from '../closure/fs-index.js';

export function describeReason(reason: Reason): string {
  return [reason.kind, reason.detail, reason.from ? `(from ${reason.from})` : undefined].filter(Boolean).join(': ');
}

export function countKeptFiles(keep: Map<string, Reason[]>, index: FsIndex): number {
  let files = 0;
  for (const path of keep.keys()) if (index.get(path)?.type === 'file') files++;
  return files;
}

/** Kept bytes per top-two-level directory, largest first. */
export function bytesByDirectory(keep: Map<string, Reason[]>, index: FsIndex): Array<{ directory: string; bytes: number }> {
  const totals = new Map<string, number>();
  for (const path of keep.keys()) {
    const entry = index.get(path);
    if (entry?.type !== 'file') continue;
    const parts = path.split('/').filter(Boolean);
    const directory = `/${parts.slice(0, Math.min(2, parts.length - 1)).join('/')}`;
    totals.set(directory, (totals.get(directory) ?? 0) + entry.size);
  }
  return [...totals].map(([directory, bytes]) => ({ directory, bytes })).sort((a, b) => b.bytes - a.bytes || a.directory.localeCompare(b.directory)).slice(0, 15);
}
