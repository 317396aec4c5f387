/**
 * Stacks the layers the way the engine's overlay does (whiteouts and opaque directories hide what
 * lower layers wrote) and records, per layer, what it added, changed and deleted, and which bytes
 * end up hidden: those are the bytes a rebuild could really reclaim.
 */
import { FileTree, type TreeNode } from './file-tree.js';
import type { LayerFacts } from './layer-facts.js';

export interface ChangeCount {
  count: number;
  bytes: number;
}

export interface LayerChanges {
  added: ChangeCount;
  changed: ChangeCount;
  /** Files of lower layers this layer hides (whiteouts, opaque directories, replaced directories). */
  deleted: ChangeCount;
}

/** A regular file written by one layer and hidden by a later one. */
export interface ShadowedFile {
  path: string;
  size: number;
  addedIn: number;
  hiddenIn: number;
  how: 'deleted' | 'overwritten';
}

export interface StackedImage {
  changes: LayerChanges[];
  /** The filesystem a container of the image starts with. */
  final: FileTree;
  shadowed: ShadowedFile[];
}

function emptyChanges(): LayerChanges {
  return { added: { count: 0, bytes: 0 }, changed: { count: 0, bytes: 0 }, deleted: { count: 0, bytes: 0 } };
}

function isContent(node: TreeNode): boolean {
  return node.info !== undefined && node.info.kind !== 'dir';
}

export function stackLayers(layers: LayerFacts[]): StackedImage {
  const final = new FileTree();
  const shadowed: ShadowedFile[] = [];
  const changes: LayerChanges[] = [];

  const hide = (node: TreeNode, layer: number, how: ShadowedFile['how'], into: LayerChanges) => {
    for (const hidden of [...node.descendants(), node]) {
      if (!isContent(hidden)) continue;
      into.deleted.count += how === 'deleted' ? 1 : 0;
      into.deleted.bytes += how === 'deleted' ? hidden.info!.size : 0;
      if (hidden.info!.kind === 'file') {
        shadowed.push({ path: hidden.path, size: hidden.info!.size, addedIn: hidden.info!.layer, hiddenIn: layer, how });
      }
    }
  };

  layers.forEach((facts, layer) => {
    const change = emptyChanges();
    // whiteouts hide lower layers only, so they go first: entries of this layer stay visible
    for (const whiteout of facts.whiteouts) {
      const node = final.get(whiteout.path);
      if (!node) continue;
      if (whiteout.opaque) {
        for (const child of [...(node.children?.values() ?? [])]) {
          hide(child, layer, 'deleted', change);
          node.children!.delete(child.name);
        }
      } else {
        hide(node, layer, 'deleted', change);
        final.remove(whiteout.path);
      }
    }
    for (const entry of facts.entries) {
      const existing = final.get(entry.path);
      const info = { kind: entry.kind, size: entry.size, sha256: entry.sha256, layer };
      if (entry.kind === 'dir') {
        if (existing && isContent(existing)) hide(existing, layer, 'overwritten', change);
        final.add(entry.path, info);
        continue;
      }
      if (existing && (isContent(existing) || existing.children?.size)) {
        hide(existing, layer, 'overwritten', change);
        existing.children?.clear();
        change.changed.count++;
        change.changed.bytes += entry.size;
      } else {
        change.added.count++;
        change.added.bytes += entry.size;
      }
      final.add(entry.path, info);
    }
    changes.push(change);
  });
  return { changes, final, shadowed };
}
