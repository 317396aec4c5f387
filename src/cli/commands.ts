import type { Command } from 'commander';
import { registerXray } from './xray-command.js';

/** Every subcommand registers itself here; each lives in its own file under src/cli/. */
export function registerCommands(program: Command): void {
  void program;
  registerXray(program);
}
