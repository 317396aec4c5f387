#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { SlimifyError, isSlimifyError } from '../errors.js';
import { installSignalHandlers } from '../util/interrupt.js';
import { setVerbosity } from '../util/log.js';
import { VERSION } from '../version.js';
import { registerCommands } from './commands.js';

const program = new Command('slimify')
  .description('Make container images small: run the app under strace, keep the files it touched, verify the result.')
  .version(VERSION, '-V, --version')
  .option('-q, --quiet', 'print only results and errors')
  .option('-v, --verbose', 'show every engine call and more detail (also DEBUG=slimify)')
  .showHelpAfterError('(run slimify --help for usage)')
  .exitOverride();

program.hook('preAction', (command) => {
  const options = command.optsWithGlobals<{ quiet?: boolean; verbose?: boolean }>();
  if (options.verbose) setVerbosity('verbose');
  else if (options.quiet) setVerbosity('quiet');
});

registerCommands(program);
installSignalHandlers();

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = report(error);
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // help and version end through exitOverride too; commander already printed them
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help' ? 0 : 2;
  }
  if (isSlimifyError(error)) {
    process.stderr.write(`slimify: ${error.message}\n`);
    for (const line of error.details) process.stderr.write(`  ${line}\n`);
    if (error.cause && process.env.DEBUG) process.stderr.write(`cause: ${String((error.cause as Error).stack ?? error.cause)}\n`);
    return error.exitCode;
  }
  const wrapped = new SlimifyError(`internal error: ${(error as Error)?.message ?? String(error)} (please report it with the output of --verbose)`, { cause: error });
  process.stderr.write(`slimify: ${wrapped.message}\n`);
  if (process.env.DEBUG) process.stderr.write(`${String((error as Error)?.stack)}\n`);
  return wrapped.exitCode;
}
