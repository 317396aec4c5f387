/**
 * The image's pristine filesystem read where the engine mounts it, instead of through
 * `docker export`. A container of the image that runs nothing but slimify's init (`--pause`, no
 * network) makes the engine mount the image's layers, with its own small init layer on top, at
 * the container's MergedDir; slimify walks that directory (its init's `--walk`: lstat, the first
 * bytes of each regular file, file capabilities) and later reads only the files it keeps. The
 * export reads and copies every byte of the image while the app is traced; this reads a few
 * hundred kB of metadata and the kept files.
 *
 * It needs what `docker export` does not: the engine on this machine, slimify running as root
 * (the engine's storage is root's alone), and a storage driver that mounts a union of the
 * layers (overlay2, fuse-overlayfs). That the directory is the container's root is checked, not
 * assumed: it must be the same directory as /proc/PID/root of the container's process. Anything
 * else, and the build reads the export (see build.ts).
 *
 * What the walk gives is what the export of a container that was never started gives: the
 * mount point the holder container adds (SENSOR_DIR) is left out, names keep their bytes, a
 * hardlink is the later path of the pair in the export's order (each directory sorted by byte
 * value), and file capabilities come with the files, as the export carries them.
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import type { Header } from 'tar-stream';
import { sniffContent } from '../closure/file-kind.js';
import { type FsEntry, type FsEntryType, FsIndex } from '../closure/fs-index.js';
import type { ContainerHandle, MountSource } from '../engine/container.js';
import type { ImageInfo } from '../engine/engine.js';
import type { Session } from '../engine/session.js';
import { SENSOR_DIR, initPath } from '../sensor/bundle.js';
import { pathFromBytes } from '../trace/path-encoding.js';
import { type ContentRange, PristineCopy } from './export-copy.js';
import { CONTAINER_ONLY, type FilesystemIndex } from './index-filesystem.js';
import type { PristineFilesystem } from './pristine-source.js';
import { TAR_TYPES } from './write-layer.js';

/** Storage drivers whose MergedDir is the union of the container's layers. */
const UNION_DRIVERS = new Set(['overlay2', 'fuse-overlayfs']);

/** Why the image cannot be read where the engine mounts it, known before asking the engine; undefined when it may. */
export function mountUnavailable(image: ImageInfo, facts: { uid?: number; dockerHost?: string; userns?: boolean }): string | undefined {
  const host = facts.dockerHost;
  if (host && !host.startsWith('unix://')) return `the engine is at ${host}, not on this machine`;
  if (facts.uid !== 0) return 'slimify is not running as root, and only root may read where the engine keeps images';
  if (facts.userns) return 'the engine remaps user ids (userns-remap), so its files do not carry the image\'s owners';
  const driver = (image.raw as { GraphDriver?: { Name?: string } }).GraphDriver?.Name ?? '';
  if (!UNION_DRIVERS.has(driver)) return `the engine stores images with ${driver || 'an unknown storage driver'}, which slimify does not read directly`;
  return undefined;
}

/**
 * A started container of the image that runs nothing but slimify's init (`--pause`), as root and
 * without a network: the engine mounts the image's filesystem for it, and it never changes it.
 */
export async function holderContainer(session: Session, image: ImageInfo, sensor: MountSource, purpose: string): Promise<ContainerHandle> {
  const holder = await session.container({
    image: image.id,
    purpose,
    entrypoint: [`${SENSOR_DIR}/init`, '--pause'],
    cmd: [],
    user: '0',
    noNetwork: true,
    disableHealthcheck: true,
    mounts: [{ source: sensor, target: SENSOR_DIR, readOnly: true }],
  });
  try {
    await holder.start();
  } catch (error) {
    session.discardContainer(holder.id);
    throw error;
  }
  return holder;
}

export async function readMounted(session: Session, image: ImageInfo, sensor: MountSource): Promise<PristineFilesystem> {
  const holder = await holderContainer(session, image, sensor, 'mount');
  try {
    const info = await holder.inspect();
    const merged = (info.GraphDriver as { Data?: Record<string, string> } | undefined)?.Data?.MergedDir;
    if (!merged) throw new Error(`the engine gives no MergedDir for container ${holder.id.slice(0, 12)}`);
    await sameDirectory(merged, `/proc/${info.State.Pid}/root`);
    const walked = await walkFilesystem(merged);
    return { ...walked, refused: [], copy: new MountedCopy(walked.index, walked.hostPaths, () => session.discardContainer(holder.id)), via: 'mount' };
  } catch (error) {
    session.discardContainer(holder.id);
    throw error;
  }
}

/** Fails unless `a` and `b` are the same directory (device and inode). */
async function sameDirectory(a: string, b: string): Promise<void> {
  const [first, second] = await Promise.all([stat(a), stat(b)]);
  if (first.dev !== second.dev || first.ino !== second.ino) throw new Error(`${a} is not the root of the container (${b}): the engine's mounts are not visible here`);
}

export interface WalkResult extends FilesystemIndex {
  /** where each regular file lies on this machine, by path */
  hostPaths: Map<string, Buffer>;
}

/**
 * Lists the filesystem under `root` into an FsIndex, as the export would list it. The walk itself
 * is slimify's init (`--walk`, see init.c): the same walk in Node took 0.4 s of CPU for nginx's
 * 7,000 entries, with the app being traced on the other core, against 0.15 s in C; this side
 * turns its records into entries, hardlinks and the headers the slim layer needs.
 */
export async function walkFilesystem(root: string): Promise<WalkResult> {
  return indexWalk(await runWalker(root), Buffer.from(root.replace(/\/+$/, '')));
}

/**
 * The index of a walk's `listing` (see walkRecords), its regular files found under `rootBytes`;
 * `adjust` may change an entry before it is indexed (a file it empties has no content to sniff).
 */
export function indexWalk(listing: Buffer, rootBytes: Buffer, adjust?: (entry: FsEntry) => void): WalkResult {
  const index = new FsIndex();
  const headers = new Map<string, Header>();
  const hostPaths = new Map<string, Buffer>();
  const firstLink = new Map<string, { path: string; bytes: Buffer }>();
  let bytes = 0;
  let files = 0;
  for (const record of walkRecords(listing)) {
    const { relative, type, stats } = record;
    const path = pathFromBytes(relative);
    if (type === undefined || CONTAINER_ONLY.has(path) || path === SENSOR_DIR || path.startsWith(`${SENSOR_DIR}/`)) continue;
    const entry: FsEntry = { path, type, mode: stats.mode, uid: stats.uid, gid: stats.gid, size: type === 'file' ? stats.size : 0, mtime: stats.mtime };
    adjust?.(entry);
    const header = tarHeader(tarName(relative), entry);
    let needsHeader = !isAscii(relative);
    if (type === 'symlink') {
      entry.linkname = pathFromBytes(record.linkname);
      header.linkname = record.linkname.toString('latin1');
      needsHeader ||= !isAscii(record.linkname);
    } else if (type === 'file') {
      const first = stats.nlink > 1 ? firstLink.get(stats.ino) : undefined;
      if (first) {
        entry.type = 'hardlink';
        entry.size = 0;
        entry.linkname = first.path;
        header.linkname = tarName(first.bytes);
        needsHeader ||= !isAscii(first.bytes);
      } else {
        if (stats.nlink > 1) firstLink.set(stats.ino, { path, bytes: relative });
        hostPaths.set(path, Buffer.concat([rootBytes, relative]));
        files++;
        bytes += entry.size;
        const found = sniffContent(entry.size === 0 ? record.head.subarray(0, 0) : record.head);
        entry.kind = found.kind;
        if (found.shebang !== undefined) entry.shebang = found.shebang;
      }
    } else if (type === 'char' || type === 'block') {
      header.devmajor = stats.major;
      header.devminor = stats.minor;
      needsHeader = true;
    }
    if (record.capability.length > 0) {
      header.pax = { 'SCHILY.xattr.security.capability': record.capability.toString('latin1') };
      needsHeader = true;
    }
    if (needsHeader) headers.set(path, header);
    index.add(entry);
  }
  return { index, headers, hostPaths, bytes, files };
}

const TYPES: Record<string, FsEntryType | undefined> = { f: 'file', d: 'directory', l: 'symlink', c: 'char', b: 'block', p: 'fifo' };

export interface WalkRecord {
  /** the path from the root, with its leading slash, as bytes */
  relative: Buffer;
  /** undefined for a socket, which the export leaves out */
  type: FsEntryType | undefined;
  stats: { mode: number; uid: number; gid: number; size: number; mtime: number; nlink: number; ino: string; major: number; minor: number };
  linkname: Buffer;
  /** the first bytes of a regular file, as many as sniffContent needs */
  head: Buffer;
  /** the security.capability xattr, empty when there is none */
  capability: Buffer;
}

/** The records of `init --walk` output: five NUL-terminated fields each. */
export function* walkRecords(listing: Buffer): Generator<WalkRecord> {
  let at = 0;
  const field = (): Buffer => {
    const end = listing.indexOf(0, at);
    if (end < 0) throw new Error('the walk of the image filesystem was cut short');
    const value = listing.subarray(at, end);
    at = end + 1;
    return value;
  };
  while (at < listing.length) {
    const relative = field();
    const numbers = field().toString('latin1').split(' ');
    if (numbers.length !== 10) throw new Error(`unexpected walk record for ${relative.toString()}: ${numbers.join(' ')}`);
    const [type, mode, uid, gid, size, mtime, nlink, ino, major, minor] = numbers as [string, string, string, string, string, string, string, string, string, string];
    yield {
      relative,
      type: TYPES[type],
      stats: { mode: parseInt(mode, 8), uid: Number(uid), gid: Number(gid), size: Number(size), mtime: Number(mtime), nlink: Number(nlink), ino, major: Number(major), minor: Number(minor) },
      linkname: field(),
      head: Buffer.from(field().toString('latin1'), 'hex'),
      capability: Buffer.from(field().toString('latin1'), 'hex'),
    };
  }
}

function runWalker(root: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(initPath(), ['--walk', root], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`walking ${root} failed (${signal ?? `exit ${code}`}): ${Buffer.concat(err).toString().trim()}`));
    });
  });
}

/**
 * The header the export would give an entry, for the few entries whose FsEntry does not say all
 * (see IndexResult.headers); the slim layer takes only the name, link target, device numbers and
 * xattrs from it.
 */
function tarHeader(name: string, entry: FsEntry): Header {
  return { name, type: TAR_TYPES[entry.type], mode: entry.mode, uid: entry.uid, gid: entry.gid, size: entry.size, mtime: new Date(entry.mtime * 1000), linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0 };
}

function isAscii(bytes: Buffer): boolean {
  return bytes.every((b) => b < 0x80);
}

/** A tar name for a path relative to the root ('/usr/bin' -> 'usr/bin'), its bytes as latin1. */
function tarName(relative: Buffer): string {
  return relative.subarray(1).toString('latin1');
}

/** The bytes of the image's files, read from where the engine mounted them while the holder container runs. */
export class MountedCopy extends PristineCopy {
  constructor(
    index: FsIndex,
    private readonly hostPaths: ReadonlyMap<string, Buffer>,
    private readonly release: () => void,
  ) {
    super(index);
  }

  protected locate(path: string, size: number): ContentRange | undefined {
    const file = this.hostPaths.get(path);
    return file === undefined ? undefined : { file, start: 0, size };
  }

  /** Removes the holder container (in the background): the engine unmounts the filesystem. */
  async remove(): Promise<void> {
    this.release();
  }
}
