#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { SlimifyError, isSlimifyError } from '../errors.js';
import { tmpdir } from 'node:os';
import { diskError } from '../util/disk-error.js';
import { engineAnswers, engineDescription, isConnectionError } from '../engine/engine.js';
import { installSignalHandlers, wasInterrupted } from '../util/interrupt.js';
import { setVerbosity, stopAllProgress } from '../util/log.js';
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
  process.exitCode = await report(error);
}

async function report(error: unknown): Promise<number> {
  stopAllProgress();
  // the signal handler is cleaning up and sets the exit status; the stage it cut short says nothing new
  if (wasInterrupted()) return 130;
  if (error instanceof CommanderError) {
    // help and version end through exitOverride too; commander already printed them
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help' ? 0 : 2;
  }
  // a full disk deep inside a stage (a file copied for the closure, the layer) is the user's to fix
  error = diskError(error, tmpdir(), 'writing temp files') ?? error;
  if (isSlimifyError(error)) {
    process.stderr.write(`slimify: ${error.message}\n`);
    for (const line of error.details) process.stderr.write(`  ${line}\n`);
    if (error.cause && process.env.DEBUG) process.stderr.write(`cause: ${String((error.cause as Error).stack ?? error.cause)}\n`);
    return error.exitCode;
  }
  // a stream from the engine that broke off (export, logs, load) is the engine going away, not a bug
  if (isConnectionError(error) || (error as { code?: string })?.code === 'ERR_STREAM_PREMATURE_CLOSE') {
    if (!(await engineAnswers())) {
      const gone = new SlimifyError(`the Docker engine at ${engineDescription()} stopped answering (${(error as Error).message}): check that it is running, then run \`slimify clean\` to remove what this run left`, { code: 'engine-unreachable', cause: error });
      process.stderr.write(`slimify: ${gone.message}\n`);
      return gone.exitCode;
    }
  }
  const wrapped = new SlimifyError(`internal error: ${(error as Error)?.message ?? String(error)} (please report it with the output of --verbose)`, { cause: error });
  process.stderr.write(`slimify: ${wrapped.message}\n`);
  if (process.env.DEBUG) process.stderr.write(`${String((error as Error)?.stack)}\n`);
  return wrapped.exitCode;
}
