import type { Command } from 'commander';
import { registerBuild } from './build-command.js';
import { registerCompare } from './compare-command.js';
import { registerClean } from './clean-command.js';
import { registerLint } from './lint-command.js';
import { registerXray } from './xray-command.js';

/** Every subcommand registers itself here; each lives in its own file under src/cli/. */
export function registerCommands(program: Command): void {
  registerBuild(program);
  registerXray(program);
  registerLint(program);
  registerCompare(program);
  registerClean(program);
}
