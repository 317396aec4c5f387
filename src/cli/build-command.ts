import { readFile, writeFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { build } from '../build/build.js';
import { SlimifyError, isSlimifyError } from '../errors.js';
import { exposedPorts } from '../run/run-target.js';
import type { ContinueAfter } from '../run/run-target.js';
import { renderBuildReport, type BuildReport } from '../report/build-report.js';
import { buildProbes } from '../probes/probe-options.js';
import { info } from '../util/log.js';
import { collect, parseBoolean, parseSeconds } from './options.js';
import { pingEngine } from '../engine/engine.js';
import { inspectOrPull } from '../build/build-checks.js';
import { parseRef } from '../build/image-ref.js';
import { parseIncludePath, parseIncludePathFile } from '../build/seeds.js';

function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number (0 or more)');
  return n;
}

function parseContinueAfter(value: string): ContinueAfter {
  if (value === 'probe' || value === 'exit' || value === 'signal') return { kind: value };
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds > 0) return { kind: 'seconds', seconds };
  throw new InvalidArgumentError('expected probe, exit, signal or a number of seconds');
}

interface BuildFlags {
  tag?: string;
  force?: boolean;
  pull?: boolean;
  httpProbe: boolean;
  httpCrawl: boolean;
  httpProbeCmd?: string[];
  httpProbeFile?: string[];
  probeScript?: string[];
  exec?: string[];
  execFile?: string[];
  healthcheck: boolean;
  continueAfter: ContinueAfter;
  readyTimeout: number;
  probeTimeout: number;
  exitTimeout: number;
  stopGrace: number;
  includePath?: string[];
  includePathFile?: string[];
  includeBin?: string[];
  includeShell?: boolean;
  includeTree?: string[];
  preservePath?: string[];
  exclude?: string[];
  verify: boolean;
  verifyProbeFile?: string[];
  verifyScript?: string[];
  autoInclude?: boolean;
  autoIncludeRounds: number;
  report?: string;
  json?: boolean;
}

const LISTS = ['httpProbeCmd', 'httpProbeFile', 'probeScript', 'exec', 'execFile', 'includePath', 'includePathFile', 'includeBin', 'includeTree', 'preservePath', 'exclude', 'verifyProbeFile', 'verifyScript'] as const;
type Flags = Omit<BuildFlags, (typeof LISTS)[number] | 'force' | 'pull' | 'includeShell' | 'autoInclude' | 'json'> &
  Record<(typeof LISTS)[number], string[]> & { force: boolean; pull: boolean; includeShell: boolean; autoInclude: boolean; json: boolean };

/** Repeatable options that were not given are empty lists; switches not given are off. */
function withLists(flags: BuildFlags): Flags {
  const lists = Object.fromEntries(LISTS.map((name) => [name, flags[name] ?? []])) as Record<(typeof LISTS)[number], string[]>;
  return { ...flags, ...lists, force: Boolean(flags.force), pull: Boolean(flags.pull), includeShell: Boolean(flags.includeShell), autoInclude: Boolean(flags.autoInclude), json: Boolean(flags.json) };
}

export function registerBuild(program: Command): void {
  program
    .command('build')
    .description('run IMAGE once under strace while probes exercise it, keep only the files it used, write IMAGE.slim and verify it')
    .argument('<image>', 'image reference or id (must exist in the engine; see --pull)')
    .addHelpText(
      'after',
      '\nAs root with a local engine (overlay2), slimify reads the image where the engine mounts it and copies only the files it keeps. Otherwise it reads it inside a container of the image (docker exec), and copies only the files it keeps. If that fails, it reads it through docker export and keeps one copy of its filesystem while it works: about the image\'s size, checked before it starts. Copies go to /dev/shm for images up to about 400 MB when memory allows, else (or when TMPDIR is set) to TMPDIR (default /tmp). SLIMIFY_READ=mount|container|export forces one way.\nExit codes: docs/exit-codes.md. Probes: docs/probes.md.',
    )
    .option('-t, --tag <tag>', 'output tag (default: REPO.slim:TAG)')
    .option('--force', 'replace the output tag if it exists (the old image goes once the new one is loaded)')
    .option('--pull', 'pull the image when the engine does not have it')
    .addOption(new Option('--http-probe <bool>', 'GET / on every exposed TCP port, only when no --http-probe-cmd or --http-probe-file is given; false turns it off').argParser(parseBoolean).default(true))
    .addOption(new Option('--http-crawl <bool>', 'the default GET / follows the same-origin links (href, src) of HTML answers, up to 100 pages and 3 levels deep').argParser(parseBoolean).default(true))
    .option('--http-probe-cmd <[http:|https:][METHOD:]PATH>', 'an HTTP probe on the first exposed port, docker-slim syntax (repeatable)', collect)
    .option('--http-probe-file <file>', 'HTTP probes from a JSON file (docker-slim format accepted; see probes/http-probe-file.schema.json)', collect)
    .option('--probe-script <path>', 'an executable run on the host while the app runs; non-zero exit fails the build (repeatable)', collect)
    .option('--exec <command>', 'a shell command run inside the traced container, traced too; in an image with no ports whose app exits at once, the container is held up for it (repeatable)', collect)
    .option('--exec-file <file>', 'commands run inside the container, one per line', collect)
    .addOption(new Option('--healthcheck <bool>', "run the image's HEALTHCHECK as a traced probe").argParser(parseBoolean).default(true))
    .addOption(new Option('--continue-after <when>', 'when to stop the traced app: probe (all probes done), exit (the app exits by itself), signal (Enter or SIGUSR1), or N seconds').argParser(parseContinueAfter).default({ kind: 'probe' }, 'probe'))
    .addOption(new Option('--ready-timeout <seconds>', 'how long to wait for each port to answer').argParser(parseSeconds).default(60))
    .addOption(new Option('--probe-timeout <seconds>', 'deadline of each probe').argParser(parseSeconds).default(30))
    .addOption(new Option('--exit-timeout <seconds>', 'how long an app without probes may run before it is stopped').argParser(parseSeconds).default(60))
    .addOption(new Option('--stop-grace <seconds>', 'grace period after the stop signal before SIGKILL').argParser(parseSeconds).default(10))
    .option('--include-path <path[:mode]>', 'keep this path (and what it needs) even if the app did not touch it; an octal MODE replaces its permission bits in the slim image (repeatable)', collect)
    .option('--include-path-file <file>', 'paths to keep, one PATH[:MODE] a line (# comments allowed)', collect)
    .option('--include-bin <path>', 'keep this program with its ELF interpreter and libraries (repeatable)', collect)
    .option('--include-shell', 'keep a shell (/bin/sh and its target) and the common tools the image has: ls cat cp mv rm mkdir sed grep env ...')
    .option('--include-tree <dir>', 'keep this directory with everything under it (repeatable)', collect)
    .option('--preserve-path <path>', "keep this path with everything under it exactly as it is in the original image, whatever the app did to it at run time (slimify always copies from the original image, never from the traced container; unlike --include-tree, --exclude never drops it) (repeatable)", collect)
    .option('--exclude <glob>', 'drop kept paths matching this glob after the closure (* and ? within a name, ** across directories; a matching directory drops its contents; patterns without a leading / match at any depth) (repeatable)', collect)
    .addOption(new Option('--verify <bool>', 'run the slim image with the same probes and compare').argParser(parseBoolean).default(true))
    .option('--verify-probe-file <file>', 'HTTP probes run only in verification, on the slim image and on the original, never traced (repeatable)', collect)
    .option('--verify-script <path>', 'a probe script run only in verification, on the slim image and on the original (repeatable)', collect)
    .option('--auto-include', 'when verification fails, add the paths the slim image looked for and rebuild')
    .addOption(new Option('--auto-include-rounds <n>', 'at most this many --auto-include rounds').argParser(parseCount).default(3))
    .option('--report <file>', 'write the full report as JSON (every kept path with its reason)')
    .option('--json', 'print the report as JSON on stdout instead of the table')
    .action(async (image: string, given: BuildFlags) => {
      const flags = withLists(given);
      // the image decides which ports probes may use: find it (or pull it) before reading probe files
      parseRef(image);
      await pingEngine();
      const original = await inspectOrPull({ image, pull: flags.pull });
      const probes = await buildProbes({
        exposedPorts: exposedPorts(original),
        httpProbe: flags.httpProbe,
        httpCrawl: flags.httpCrawl,
        httpProbeCmd: flags.httpProbeCmd,
        httpProbeFile: flags.httpProbeFile,
        probeScript: flags.probeScript,
        exec: flags.exec,
        execFile: flags.execFile,
        healthcheck: flags.healthcheck ? original.config.Healthcheck : undefined,
        timeoutMs: flags.probeTimeout * 1000,
      });
      const verifyProbes = await buildProbes({
        exposedPorts: exposedPorts(original),
        httpProbe: false,
        httpProbeCmd: [],
        httpProbeFile: flags.verifyProbeFile,
        probeScript: flags.verifyScript,
        exec: [],
        execFile: [],
        timeoutMs: flags.probeTimeout * 1000,
      });
      const includePaths = flags.includePath.map((spec) => parseIncludePath(spec));
      for (const file of flags.includePathFile) {
        const text = await readFile(file, 'utf8').catch((cause: unknown) => {
          throw new SlimifyError(`cannot read --include-path-file ${file}`, { code: 'usage', cause });
        });
        includePaths.push(...parseIncludePathFile(text, file));
      }
      let report: BuildReport;
      try {
        report = await build({
          image,
          inspected: original,
          tag: flags.tag,
          force: flags.force,
          pull: false,
          probes,
          continueAfter: flags.continueAfter,
          readyTimeoutMs: flags.readyTimeout * 1000,
          exitTimeoutMs: flags.exitTimeout * 1000,
          stopGraceSeconds: flags.stopGrace,
          includeTrees: flags.includeTree,
          inclusions: { includePaths, includeBins: flags.includeBin, includeShell: flags.includeShell, preservePaths: flags.preservePath },
          excludes: flags.exclude,
          verify: flags.verify,
          verifyProbes,
          autoInclude: flags.autoInclude,
          autoIncludeRounds: flags.autoIncludeRounds,
        });
      } catch (error) {
        // a failed verification still has a report worth keeping
        if (isSlimifyError(error) && error.code === 'verify-failed' && error.cause && flags.report) {
          await writeFile(flags.report, `${JSON.stringify(error.cause, null, 2)}\n`);
        }
        throw error;
      }
      if (flags.report) {
        await writeFile(flags.report, `${JSON.stringify(report, null, 2)}\n`).catch((cause: unknown) => {
          throw new SlimifyError(`cannot write the report to ${flags.report}`, { code: 'usage', cause });
        });
        info(`report written to ${flags.report}`);
      }
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderBuildReport(report)}\n`);
    });
}
