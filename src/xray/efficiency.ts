/**
 * dive's efficiency score and wasted bytes, computed the way dive defines them (wagoodman/dive,
 * filetree/efficiency.go), so the numbers match what users see in dive and its CI mode:
 *
 * - every layer is a tree of its tar entries, parents implied; only leaves are counted;
 * - a whiteout counts 0 bytes, unless it hides a directory, then the whole directory as stacked
 *   from the lower layers (opaque markers are ignored, as dive ignores them);
 * - per path: cumulative = sum of its sizes over the layers, minimum = the smallest of them;
 * - score = sum of minimums / sum of cumulatives (1 when nothing was counted);
 * - wasted bytes = sum of cumulatives of the paths seen in two layers or more. That counts the
 *   copy the image keeps too, which is why xray also reports what is really reclaimable.
 * - user wasted percent = wasted bytes / bytes of all layers but the first.
 */
import { FileTree, type TreeNode } from './file-tree.js';
import type { LayerFacts } from './layer-facts.js';

export interface InefficientPath {
  path: string;
  /** In how many layers the path appears (added, changed or deleted). */
  count: number;
  cumulativeBytes: number;
}

export interface DiveEfficiency {
  efficiency: number;
  wastedBytes: number;
  sizeBytes: number;
  userSizeBytes: number;
  /** A ratio (0.1 = 10 %), as dive's `highestUserWastedPercent`. NaN-free: 0 when there are no user layers. */
  userWastedPercent: number;
  inefficientPaths: InefficientPath[];
}

function layerTree(facts: LayerFacts, layer: number): FileTree {
  const tree = new FileTree();
  for (const entry of facts.entries) tree.add(entry.path, { kind: entry.kind, size: entry.size, layer });
  for (const whiteout of facts.whiteouts) {
    if (!whiteout.opaque) tree.add(whiteout.path, { kind: 'other', size: 0, layer }, true);
  }
  return tree;
}

function subtreeBytes(node: TreeNode): number {
  let total = node.info?.size ?? 0;
  for (const child of node.descendants()) total += child.info?.size ?? 0;
  return total;
}

function stack(lower: FileTree, upper: FileTree): void {
  for (const node of upper.nodes()) {
    if (node.whiteout) lower.remove(node.path);
    // an implied parent replaces the lower node's data with an empty record, as in dive
    else lower.add(node.path, node.info ?? { kind: 'other', size: 0, layer: -1 });
  }
}

export function diveEfficiency(layers: LayerFacts[]): DiveEfficiency {
  const byPath = new Map<string, { count: number; cumulative: number; minimum: number }>();
  const stacked = new FileTree();
  layers.forEach((facts, index) => {
    const tree = layerTree(facts, index);
    for (const node of tree.nodes()) {
      if (!node.isLeaf) continue;
      const path = node.path;
      let size = node.info?.size ?? 0;
      if (node.whiteout) {
        const previous = stacked.get(path);
        size = previous?.info?.kind === 'dir' ? subtreeBytes(previous) : 0;
      }
      const data = byPath.get(path);
      if (data) {
        data.count++;
        data.cumulative += size;
        data.minimum = Math.min(data.minimum, size);
      } else {
        byPath.set(path, { count: 1, cumulative: size, minimum: size });
      }
    }
    stack(stacked, tree);
  });

  let minimum = 0;
  let cumulative = 0;
  let wasted = 0;
  const inefficientPaths: InefficientPath[] = [];
  for (const [path, data] of byPath) {
    minimum += data.minimum;
    cumulative += data.cumulative;
    if (data.count >= 2) {
      wasted += data.cumulative;
      inefficientPaths.push({ path, count: data.count, cumulativeBytes: data.cumulative });
    }
  }
  inefficientPaths.sort((a, b) => b.cumulativeBytes - a.cumulativeBytes || a.path.localeCompare(b.path));
  const sizeBytes = layers.reduce((sum, l) => sum + l.contentBytes, 0);
  const userSizeBytes = sizeBytes - (layers[0]?.contentBytes ?? 0);
  return {
    efficiency: cumulative === 0 ? 1 : minimum / cumulative,
    wastedBytes: wasted,
    sizeBytes,
    userSizeBytes,
    userWastedPercent: userSizeBytes === 0 ? 0 : wasted / userSizeBytes,
    inefficientPaths,
  };
}
