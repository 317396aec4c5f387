/**
 * A filesystem tree keyed by path segments: the shape both dive's accounting and the stacked
 * view of an image need (leaves, subtrees, removal of a whole directory).
 */
import type { EntryKind } from './layer-facts.js';

export interface NodeInfo {
  kind: EntryKind;
  size: number;
  sha256?: string;
  /** Index of the layer that wrote this node. */
  layer: number;
}

export class TreeNode {
  children?: Map<string, TreeNode>;
  /** Absent for directories only implied by a deeper path. */
  info?: NodeInfo;
  whiteout = false;

  constructor(
    readonly name: string,
    readonly parent?: TreeNode,
  ) {}

  get path(): string {
    const names: string[] = [];
    for (let node: TreeNode | undefined = this; node?.parent; node = node.parent) names.push(node.name);
    return `/${names.reverse().join('/')}`;
  }

  get isLeaf(): boolean {
    return !this.children || this.children.size === 0;
  }

  /** Visits this node's descendants, children before their parent. */
  *descendants(): Generator<TreeNode> {
    if (!this.children) return;
    for (const child of this.children.values()) {
      yield* child.descendants();
      yield child;
    }
  }
}

function segments(path: string): string[] {
  return path.split('/').filter((s) => s !== '' && s !== '.');
}

export class FileTree {
  readonly root = new TreeNode('');

  get(path: string): TreeNode | undefined {
    let node: TreeNode | undefined = this.root;
    for (const name of segments(path)) {
      node = node.children?.get(name);
      if (!node) return undefined;
    }
    return node;
  }

  /** Adds or replaces the node at `path`, creating implied parents; an existing node keeps its children. */
  add(path: string, info: NodeInfo | undefined, whiteout = false): TreeNode {
    let node = this.root;
    for (const name of segments(path)) {
      node.children ??= new Map();
      let child = node.children.get(name);
      if (!child) {
        child = new TreeNode(name, node);
        node.children.set(name, child);
      }
      node = child;
    }
    if (info) node.info = info;
    node.whiteout = whiteout;
    return node;
  }

  remove(path: string): TreeNode | undefined {
    const node = this.get(path);
    if (!node?.parent) return undefined;
    node.parent.children?.delete(node.name);
    return node;
  }

  *nodes(): Generator<TreeNode> {
    yield* this.root.descendants();
  }
}
