import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import { SlimifyError } from '../errors.js';
import { FORMATS, type Format } from '../lint/finding.js';
import { CONFIG_FILE, parseThreshold, readLintConfig } from '../lint/lint-config.js';
import type { LintConfig } from '../lint/lint.js';

interface LintOptions {
  format: Format;
  failureThreshold?: string;
  config?: string;
  ignore: string[];
  image?: string;
}

function readOptional(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

export function registerLint(program: Command): void {
  program
    .command('lint')
    .description('check a Dockerfile for image-size mistakes (hadolint IDs where the rule is the same, SL1xxx for the rest)')
    .argument('[dockerfile]', 'the Dockerfile', 'Dockerfile')
    .addOption(new Option('-f, --format <format>', 'output format').choices(FORMATS as string[]).default('tty'))
    .option('--failure-threshold <severity>', 'exit non-zero (6) on findings at or above: error, warning, info, style, none (default info)')
    .option('--config <file>', `config file (default: ${CONFIG_FILE} next to the Dockerfile or in the current directory)`)
    .option('--ignore <rule>', 'ignore a rule (repeatable)', (value: string, list: string[]) => [...list, value], [] as string[])
    .option('--image <image>', 'also check the built image (caches left in layers, files deleted in a later layer)')
    .action(async (dockerfile: string, options: LintOptions) => {
      let text: string;
      try {
        text = readFileSync(dockerfile, 'utf8');
      } catch (error) {
        throw new SlimifyError(`cannot read ${dockerfile}: ${(error as Error).message}`, { code: 'usage', stage: 'lint', cause: error });
      }
      const contextDir = dirname(dockerfile);
      const configPath = options.config ?? [join(contextDir, CONFIG_FILE), CONFIG_FILE].find((p) => existsSync(p));
      const config: LintConfig = configPath ? readLintConfig(configPath) : {};
      config.ignored = [...(config.ignored ?? []), ...options.ignore];
      const threshold = options.failureThreshold ? parseThreshold(options.failureThreshold, '--failure-threshold') : (config.failureThreshold ?? 'info');
      let contextEntries: string[] | undefined;
      try {
        contextEntries = readdirSync(contextDir);
      } catch {
        contextEntries = undefined;
      }
      // loaded here, not at start-up: the parser and the rules are a noticeable part of every command's start
      const [{ parseDockerfile }, { failsThreshold, filterFindings, lintModel }, { formatFindings }] = await Promise.all([import('../lint/dockerfile-model.js'), import('../lint/lint.js'), import('../lint/format.js')]);
      const model = parseDockerfile(text);
      const build = { dockerignore: readOptional(join(contextDir, '.dockerignore')), contextEntries };
      let findings = lintModel(model, { file: dockerfile, build, config });
      if (options.image) {
        const [{ xrayImage }, { imageFindings }] = await Promise.all([import('../xray/xray.js'), import('../lint/image-findings.js')]);
        const report = await xrayImage(options.image);
        findings = filterFindings([...findings, ...imageFindings(report, model, dockerfile)], model, config);
      }
      process.stdout.write(formatFindings(findings, options.format));
      const failing = failsThreshold(findings, threshold);
      if (failing.length) {
        throw new SlimifyError(`lint: ${failing.length} finding(s) at or above ${threshold} in ${dockerfile}`, { code: 'verify-failed', stage: 'lint' });
      }
    });
}
