/**
 * Builds the xray report from the facts of an image's layers: pure, no I/O.
 */
import { diveEfficiency, type DiveEfficiency, type InefficientPath } from './efficiency.js';
import type { ImageArchive } from './image-archive.js';
import { stackLayers, type LayerChanges, type ShadowedFile } from './layer-accounting.js';
import { cacheKindOf } from './package-caches.js';

export interface LayerReport extends LayerChanges {
  index: number;
  archivePath: string;
  diffId?: string;
  createdBy: string;
  /** Sum of the file sizes in the layer (dive's layer size). */
  sizeBytes: number;
  /** Bytes of the layer tarball in the archive. */
  archiveBytes: number;
}

export interface FileFact {
  path: string;
  bytes: number;
  layer: number;
}

export interface DuplicateGroup {
  sha256: string;
  bytes: number;
  paths: string[];
  /** What keeping one copy would save: bytes × (copies − 1). */
  reclaimableBytes: number;
}

export interface CacheFinding {
  id: string;
  label: string;
  fix: string;
  files: number;
  bytes: number;
  layers: number[];
}

export interface XrayReport {
  image: { ref: string; repoTags: string[]; architecture?: string; os?: string };
  layers: LayerReport[];
  /** dive's figures, computed as dive does; wasted bytes include the copy the image keeps. */
  dive: Omit<DiveEfficiency, 'inefficientPaths'> & { inefficientPaths: InefficientPath[] };
  /** Bytes a better build would really save, without double counting the kept copy. */
  reclaimable: {
    /** Written by a layer, then deleted or overwritten by a later one: present in the layers, invisible in the container. */
    hiddenBytes: number;
    duplicateBytes: number;
    cacheBytes: number;
    totalBytes: number;
  };
  visible: { files: number; bytes: number };
  biggestFiles: FileFact[];
  biggestDirs: Array<{ path: string; bytes: number; files: number }>;
  duplicates: DuplicateGroup[];
  caches: CacheFinding[];
  deletedLater: ShadowedFile[];
  overwritten: ShadowedFile[];
}

export interface ReportOptions {
  /** How many entries each list keeps. */
  top?: number;
  /** Directory depth at which biggest directories are ranked (1 = /usr, 2 = /usr/lib ...). */
  dirDepth?: number;
}

/** The instruction behind a history entry, without the shell wrapper the engine records. */
export function instructionOf(createdBy: string | undefined): string {
  if (!createdBy) return '(unknown)';
  return createdBy
    .replace(/^\|\d+ (\S+=\S* )*/, '')
    .replace(/^\/bin\/sh -c #\(nop\)\s*/, '')
    .replace(/^\/bin\/sh -c /, 'RUN ')
    .trim();
}

function historyForLayers(archive: ImageArchive): string[] {
  const nonEmpty = (archive.config.history ?? []).filter((h) => !h.empty_layer);
  return archive.layers.map((_, i) => {
    const entry = nonEmpty[i];
    return entry?.created_by ? instructionOf(entry.created_by) : entry?.comment || '(unknown)';
  });
}

export function buildReport(ref: string, archive: ImageArchive, options: ReportOptions = {}): XrayReport {
  const top = options.top ?? 20;
  const dirDepth = options.dirDepth ?? 3;
  const facts = archive.layers.map((l) => l.facts);
  const dive = diveEfficiency(facts);
  const stacked = stackLayers(facts);
  const createdBy = historyForLayers(archive);

  const layers: LayerReport[] = archive.layers.map((layer, index) => ({
    index,
    archivePath: layer.archivePath,
    diffId: layer.diffId,
    createdBy: createdBy[index] ?? '(unknown)',
    sizeBytes: layer.facts.contentBytes,
    archiveBytes: layer.archiveBytes,
    ...stacked.changes[index]!,
  }));

  const files: FileFact[] = [];
  const bySha = new Map<string, { bytes: number; paths: string[] }>();
  const dirs = new Map<string, { bytes: number; files: number }>();
  const caches = new Map<string, CacheFinding>();
  for (const node of stacked.final.nodes()) {
    const info = node.info;
    if (!info || info.kind !== 'file') continue;
    const path = node.path;
    files.push({ path, bytes: info.size, layer: info.layer });
    const kind = cacheKindOf(path);
    // cache files are counted as caches, not again as duplicates
    if (info.sha256 && info.size > 0 && !kind) {
      const group = bySha.get(info.sha256) ?? { bytes: info.size, paths: [] };
      group.paths.push(path);
      bySha.set(info.sha256, group);
    }
    const parts = path.split('/').slice(1, -1);
    for (let depth = 1; depth <= Math.min(dirDepth, parts.length); depth++) {
      const dir = `/${parts.slice(0, depth).join('/')}`;
      const d = dirs.get(dir) ?? { bytes: 0, files: 0 };
      d.bytes += info.size;
      d.files++;
      dirs.set(dir, d);
    }
    if (kind) {
      const c = caches.get(kind.id) ?? { id: kind.id, label: kind.label, fix: kind.fix, files: 0, bytes: 0, layers: [] };
      c.files++;
      c.bytes += info.size;
      if (!c.layers.includes(info.layer)) c.layers.push(info.layer);
      caches.set(kind.id, c);
    }
  }

  const duplicates: DuplicateGroup[] = [...bySha]
    .filter(([, g]) => g.paths.length > 1)
    .map(([sha256, g]) => ({ sha256, bytes: g.bytes, paths: g.paths.sort(), reclaimableBytes: g.bytes * (g.paths.length - 1) }))
    .sort((a, b) => b.reclaimableBytes - a.reclaimableBytes || a.sha256.localeCompare(b.sha256));
  const cacheList = [...caches.values()].sort((a, b) => b.bytes - a.bytes);
  const hiddenBytes = stacked.shadowed.reduce((sum, s) => sum + s.size, 0);
  const duplicateBytes = duplicates.reduce((sum, d) => sum + d.reclaimableBytes, 0);
  const cacheBytes = cacheList.reduce((sum, c) => sum + c.bytes, 0);
  const bySize = <T extends { bytes?: number; size?: number; path: string }>(a: T, b: T) =>
    (b.bytes ?? b.size ?? 0) - (a.bytes ?? a.size ?? 0) || a.path.localeCompare(b.path);

  return {
    image: { ref, repoTags: archive.repoTags, architecture: archive.config.architecture, os: archive.config.os },
    layers,
    dive: { ...dive, inefficientPaths: dive.inefficientPaths.slice(0, top) },
    reclaimable: { hiddenBytes, duplicateBytes, cacheBytes, totalBytes: hiddenBytes + duplicateBytes + cacheBytes },
    visible: { files: files.length, bytes: files.reduce((sum, f) => sum + f.bytes, 0) },
    biggestFiles: files.sort(bySize).slice(0, top),
    biggestDirs: [...dirs].map(([path, d]) => ({ path, ...d })).sort(bySize).slice(0, top),
    duplicates: duplicates.slice(0, top),
    caches: cacheList,
    deletedLater: stacked.shadowed.filter((s) => s.how === 'deleted').sort(bySize).slice(0, top),
    overwritten: stacked.shadowed.filter((s) => s.how === 'overwritten').sort(bySize).slice(0, top),
  };
}
