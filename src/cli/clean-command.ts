import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LABEL_OWNER, LABEL_SESSION, anyImageId } from '../engine/engine.js';
import { type Leftover, findLeftovers, leftoverTempDirs } from '../engine/leftovers.js';
import { clearTraceDir } from '../sensor/sensor-mounts.js';
import { SlimifyError, isSlimifyError } from '../errors.js';
import { info, warn } from '../util/log.js';

interface CleanFlags {
  session?: string;
  dryRun: boolean;
  force: boolean;
}

export function registerClean(program: Command): void {
  program
    .command('clean')
    .description('remove the containers, volumes and temp dirs that interrupted or crashed slimify runs left behind (found by the slimify.owner label)')
    .option('--session <id>', 'only what this session left (the id is in the names: slimify-<id>-...)')
    .option('--dry-run', 'list what would be removed, remove nothing', false)
    .option('--force', 'also remove what belongs to slimify processes still running on this host', false)
    .action(async (flags: CleanFlags) => {
      if (flags.session !== undefined && !/^[0-9a-f]{12}$/.test(flags.session)) {
        throw new SlimifyError(`--session "${flags.session}": expected a session id of 12 hex digits (as in slimify-<id>-traced)`, { code: 'usage', stage: 'clean' });
      }
      let leftovers: Leftover[];
      try {
        leftovers = await findLeftovers({ ...flags, clear: clearKilledTraces });
      } catch (error) {
        if (!isSlimifyError(error) || error.code !== 'engine-unreachable') throw error;
        // the temp dirs can go even when the engine is away; its objects wait for the next clean
        await removeAll(await leftoverTempDirs({ ...flags, clear: clearKilledTraces }), flags.dryRun);
        throw error;
      }
      const removed = await removeAll(leftovers, flags.dryRun);
      info(removed === 0 && leftovers.length === 0 ? 'nothing to clean' : `${flags.dryRun ? 'would remove' : 'removed'} ${removed} of ${leftovers.length}`);
    });
}

/** Removes (or lists, on a dry run) each leftover and prints one line per item on stdout. */
async function removeAll(leftovers: Leftover[], dryRun: boolean): Promise<number> {
  let removed = 0;
  const failures: string[] = [];
  for (const item of leftovers) {
    const what = `${item.kind} ${item.name} (session ${item.session})`;
    if (item.skipped) {
      process.stdout.write(`kept ${what}: ${item.skipped}\n`);
      continue;
    }
    if (dryRun) {
      process.stdout.write(`would remove ${what}\n`);
      removed++;
      continue;
    }
    try {
      await item.remove();
      process.stdout.write(`removed ${what}\n`);
      removed++;
    } catch (error) {
      failures.push(`${what}: ${(error as Error).message}`);
    }
  }
  if (failures.length) {
    for (const f of failures) warn(`could not remove ${f}`);
    throw new SlimifyError(`could not remove ${failures.length} leftover(s); see the warnings above`, { stage: 'clean' });
  }
  return removed;
}

/**
 * A killed build's sensor dir may hold, in its bound trace dir, files an app running as root
 * left there, which this process (when not root) may not remove: the engine clears them, as the
 * build itself would have (see clearTraceDir). Any image the engine has will do.
 */
async function clearKilledTraces(dir: string, session: string): Promise<boolean> {
  const traces = join(dir, 'traces');
  const image = existsSync(traces) ? await anyImageId() : undefined;
  if (!image) return false;
  return clearTraceDir({
    traces,
    image,
    name: `slimify-${session}-clear-traces-${randomBytes(3).toString('hex')}`,
    labels: { [LABEL_OWNER]: 'slimify', [LABEL_SESSION]: session },
  });
}
