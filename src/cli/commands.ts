import type { Command } from 'commander';

/** Every subcommand registers itself here; each lives in its own file under src/cli/. */
export function registerCommands(program: Command): void {
  void program;
}
