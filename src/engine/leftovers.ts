/**
 * What earlier runs left behind: containers and volumes labelled `slimify.owner` and temp dirs
 * named `slimify-<session>-<pid>-...` whose process is gone. Resources of a slimify process that
 * is still running on this host are left alone (they are not leftovers yet) unless forced.
 */
import { readdir } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type OwnedResource, listOwned, removeVolume } from './engine.js';
import { removeContainerById } from './container.js';
import { MEMORY_DIR, TEMP_DIR_PATTERN } from './session.js';
import { removeDir } from '../util/remove-dir.js';

export interface Leftover {
  kind: 'container' | 'volume' | 'temp dir';
  /** what to show: container name, volume name or directory path */
  name: string;
  session: string;
  /** why it is kept instead of removed */
  skipped?: string;
  remove(): Promise<void>;
}

function running(pid: number | undefined, host: string | undefined): boolean {
  if (pid === undefined || pid === process.pid || (host !== undefined && host !== hostname())) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function fromResource(resource: OwnedResource, force: boolean): Leftover {
  return {
    kind: resource.kind,
    name: resource.name,
    session: resource.session,
    skipped: !force && running(resource.pid, resource.host) ? `slimify process ${resource.pid} is still running (--force removes it anyway)` : undefined,
    remove: () => (resource.kind === 'container' ? removeContainerById(resource.id) : removeVolume(resource.id)),
  };
}

export interface LeftoverOptions {
  session?: string;
  force: boolean;
  /** empties, through the engine, a temp dir this process may not (see removeDir); false when it cannot */
  clear?: (dir: string, session: string) => Promise<boolean>;
}

/** slimify's temp dirs in the temp directory ($TMPDIR) and in shared memory, of all sessions or one. */
export async function leftoverTempDirs(options: LeftoverOptions): Promise<Leftover[]> {
  const found: Leftover[] = [];
  for (const root of new Set([tmpdir(), MEMORY_DIR])) found.push(...(await tempDirsIn(root, options)));
  return found;
}

async function tempDirsIn(root: string, options: LeftoverOptions): Promise<Leftover[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  const found: Leftover[] = [];
  for (const name of names.sort()) {
    const match = TEMP_DIR_PATTERN.exec(name);
    if (!match || (options.session && match[1] !== options.session)) continue;
    const pid = Number(match[2]);
    const path = join(root, name);
    found.push({
      kind: 'temp dir',
      name: path,
      session: match[1]!,
      skipped: !options.force && running(pid, undefined) ? `slimify process ${pid} is still running (--force removes it anyway)` : undefined,
      remove: () => removeDir(path, options.clear && (() => options.clear!(path, match[1]!))),
    });
  }
  return found;
}

/** Every leftover, containers first (they hold the volumes). */
export async function findLeftovers(options: LeftoverOptions): Promise<Leftover[]> {
  const owned = await listOwned(options.session);
  const order = { container: 0, volume: 1 };
  owned.sort((a, b) => order[a.kind] - order[b.kind] || a.name.localeCompare(b.name));
  return [...owned.map((r) => fromResource(r, options.force)), ...(await leftoverTempDirs(options))];
}
