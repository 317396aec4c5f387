/**
 * A session owns every container, volume and temp dir one slimify command creates. Each carries
 * the session's labels, so `slimify clean` can find leftovers of a run that crashed; `dispose()`
 * removes them on success, on error and on SIGINT/SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LABEL_OWNER, LABEL_SESSION, createVolume, removeContainerById, removeVolume } from './engine.js';
import { debug, warn } from '../util/log.js';

export class Session {
  readonly id = randomBytes(6).toString('hex');
  private readonly containers = new Set<string>();
  private readonly volumes = new Set<string>();
  private readonly tempDirs = new Set<string>();
  private disposing: Promise<void> | undefined;

  get labels(): Record<string, string> {
    return { [LABEL_OWNER]: 'slimify', [LABEL_SESSION]: this.id };
  }

  name(purpose: string): string {
    return `slimify-${this.id}-${purpose}`;
  }

  trackContainer(id: string): void {
    this.containers.add(id);
  }

  async forgetContainer(id: string): Promise<void> {
    this.containers.delete(id);
    await removeContainerById(id);
  }

  async volume(purpose: string): Promise<string> {
    const name = this.name(purpose);
    this.volumes.add(name);
    await createVolume(name, this.labels);
    return name;
  }

  async tempDir(purpose: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), `slimify-${this.id}-${purpose}-`));
    this.tempDirs.add(dir);
    return dir;
  }

  /** Removes everything the session created; safe to call more than once. */
  dispose(): Promise<void> {
    this.disposing ??= this.removeAll();
    return this.disposing;
  }

  private async removeAll(): Promise<void> {
    const failures: string[] = [];
    for (const id of this.containers) {
      debug(`cleanup: container ${id.slice(0, 12)}`);
      await removeContainerById(id).catch((e: unknown) => failures.push(`container ${id.slice(0, 12)}: ${String(e)}`));
    }
    for (const name of this.volumes) {
      debug(`cleanup: volume ${name}`);
      await removeVolume(name).catch((e: unknown) => failures.push(`volume ${name}: ${String(e)}`));
    }
    for (const dir of this.tempDirs) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    if (failures.length) warn(`could not remove everything this run created (run \`slimify clean\`):\n  ${failures.join('\n  ')}`);
  }
}
