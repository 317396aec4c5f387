/**
 * A session owns every container, volume and temp dir one slimify command creates. Each carries
 * the session's labels (and temp dirs the session id and pid in their names), so `slimify clean`
 * can find leftovers of a run that crashed; `dispose()` removes them on success, on error and on
 * SIGINT/SIGTERM. Disposal first waits for whatever is still being created, and anything asked
 * for after it began is refused, so a stage racing with Ctrl-C cannot leave debris behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SlimifyError } from '../errors.js';
import { diskError } from '../util/disk-error.js';
import { LABEL_HOST, LABEL_OWNER, LABEL_PID, LABEL_SESSION, createVolume, removeVolume } from './engine.js';
import { type ContainerHandle, type ContainerSpec, createContainer, removeContainerById } from './container.js';
import { debug, warn } from '../util/log.js';
import { removeDir } from '../util/remove-dir.js';

/** Shared memory (a tmpfs on Linux): where a small image's copy goes (see copyDirectory); `slimify clean` looks here too. */
export const MEMORY_DIR = '/dev/shm';

/** `slimify-<session>-<pid>-<purpose>-XXXXXX` (mkdtemp's six letters and digits, either case): what `slimify clean` recognises as its own. */
export const TEMP_DIR_PATTERN = /^slimify-([0-9a-f]{12})-(\d+)-[a-z-]+-[A-Za-z0-9]{6}$/;

export class Session {
  readonly id = randomBytes(6).toString('hex');
  private readonly containers = new Set<string>();
  private readonly volumes = new Set<string>();
  private readonly tempDirs = new Set<string>();
  /** temp dirs bind-mounted into containers, removed after them, with what clears them when slimify cannot */
  private readonly mountedDirs = new Map<string, (() => Promise<boolean>) | undefined>();
  /** creations the engine has not answered yet: disposal waits for them, then removes what they made */
  private readonly pending = new Set<Promise<unknown>>();
  /** containers being removed in the background (discardContainer) */
  private readonly removals = new Set<Promise<unknown>>();
  private disposing: Promise<void> | undefined;
  /**
   * Names are never reused within a session: a container removed in the background may still
   * hold its name when the next run of the same purpose (an --auto-include round) is created.
   */
  private readonly purposes = new Map<string, number>();

  get labels(): Record<string, string> {
    return { [LABEL_OWNER]: 'slimify', [LABEL_SESSION]: this.id, [LABEL_PID]: String(process.pid), [LABEL_HOST]: hostname() };
  }

  /** `slimify-<session>-<purpose>`, numbered from the second use of a purpose on. */
  name(purpose: string): string {
    const uses = (this.purposes.get(purpose) ?? 0) + 1;
    this.purposes.set(purpose, uses);
    return `slimify-${this.id}-${purpose}${uses > 1 ? `-${uses}` : ''}`;
  }

  private closed(what: string): SlimifyError {
    return new SlimifyError(`the run was interrupted while creating ${what}`, { code: 'interrupted' });
  }

  /** Whether dispose() has begun (Ctrl-C, or the end of the run): nothing new may start. */
  get closing(): boolean {
    return this.disposing !== undefined;
  }

  /** Creates a container that belongs to this session (its labels, removed by dispose). */
  async container(spec: Omit<ContainerSpec, 'labels' | 'name'> & { purpose: string }): Promise<ContainerHandle> {
    if (this.disposing) throw this.closed(`the ${spec.purpose} container`);
    const { purpose, ...rest } = spec;
    const handle = await this.creating(
      createContainer({ ...rest, name: this.name(purpose), labels: this.labels }).then((created) => {
        this.containers.add(created.id);
        return created;
      }),
    );
    // dispose() waited for this creation and has removed the container already
    if (this.disposing) throw this.closed(`container ${handle.id.slice(0, 12)}`);
    return handle;
  }

  private async creating<T>(creation: Promise<T>): Promise<T> {
    this.pending.add(creation);
    try {
      return await creation;
    } finally {
      this.pending.delete(creation);
    }
  }

  /**
   * Removes a container the caller is done with, in the background (killing it if it still
   * runs): the next stage need not wait for the engine's teardown. dispose() waits for it, and
   * tries again if it failed.
   */
  discardContainer(id: string): void {
    this.containers.delete(id);
    const removal: Promise<void> = removeContainerById(id).then(
      () => void this.removals.delete(removal),
      (error: unknown) => {
        debug(`removing container ${id.slice(0, 12)} failed (${(error as Error).message}); trying again at the end`);
        this.removals.delete(removal);
        this.containers.add(id);
      },
    );
    this.removals.add(removal);
  }

  /** Waits for the background removals so far: an image cannot go while a container of it exists. */
  async removed(): Promise<void> {
    await Promise.allSettled([...this.removals]);
  }

  async volume(purpose: string): Promise<string> {
    const name = this.name(purpose);
    if (this.disposing) throw this.closed(`volume ${name}`);
    this.volumes.add(name);
    await this.creating(createVolume(name, this.labels));
    if (this.disposing) throw this.closed(`volume ${name}`);
    return name;
  }

  /**
   * A temp dir in `parent` (TMPDIR by default). One that containers `mount` goes only once they
   * are gone: a running container could still write into it while it is being removed. What
   * they wrote as root, slimify (when not root) may not be allowed to remove: see removeDir for
   * `clear`.
   */
  async tempDir(purpose: string, parent = tmpdir(), options: { mounted?: boolean; clear?: () => Promise<boolean> } = {}): Promise<string> {
    if (this.disposing) throw this.closed(`a temp dir for ${purpose}`);
    const dir = await this.creating(
      mkdtemp(join(parent, `slimify-${this.id}-${process.pid}-${purpose}-`)).then(
        (made) => {
          if (options.mounted) this.mountedDirs.set(made, options.clear);
          else this.tempDirs.add(made);
          return made;
        },
        (error: unknown) => {
          throw diskError(error, parent, `creating a temp dir for ${purpose}`) ?? error;
        },
      ),
    );
    if (this.disposing) throw this.closed(dir);
    return dir;
  }

  /** Removes everything the session created; safe to call more than once. */
  dispose(): Promise<void> {
    this.disposing ??= this.removeAll();
    return this.disposing;
  }

  private async removeAll(): Promise<void> {
    const failures: string[] = [];
    const failed = (what: string) => (e: unknown) => failures.push(`${what}: ${(e as Error).message ?? String(e)}`);
    await Promise.allSettled([...this.pending]);
    const remove = (dir: string, clear?: () => Promise<boolean>) => {
      debug(`cleanup: ${dir}`);
      return removeDir(dir, clear).catch(failed(dir));
    };
    // temp dirs no container mounts go while the engine tears containers down
    const tempDirs = Promise.all([...this.tempDirs].map((dir) => remove(dir)));
    await Promise.allSettled([...this.removals]);
    // containers before volumes (a volume in use cannot go), each group at once
    await Promise.all(
      [...this.containers].map((id) => {
        debug(`cleanup: container ${id.slice(0, 12)}`);
        return removeContainerById(id).catch(failed(`container ${id.slice(0, 12)}`));
      }),
    );
    const mountedDirs = Promise.all([...this.mountedDirs].map(([dir, clear]) => remove(dir, clear)));
    await Promise.all(
      [...this.volumes].map((name) => {
        debug(`cleanup: volume ${name}`);
        return removeVolume(name).catch(failed(`volume ${name}`));
      }),
    );
    await Promise.all([tempDirs, mountedDirs]);
    if (failures.length) warn(`could not remove everything this run created (run \`slimify clean --session ${this.id}\` once the engine answers):\n  ${failures.join('\n  ')}`);
  }
}
