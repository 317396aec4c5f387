import { existsSync, readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { SlimifyError } from '../errors.js';
import { DIVE_DEFAULT_RULES, evaluateRules, parseBytes, parseDiveCi, parseRatio, type CiRules, type RuleResult } from '../xray/ci-rules.js';

interface XrayOptions {
  archive?: string;
  json?: boolean;
  top: string;
  ci?: boolean;
  ciConfig?: string;
  lowestEfficiency?: string;
  highestWastedBytes?: string;
  highestUserWastedPercent?: string;
}

function usage(message: string): SlimifyError {
  return new SlimifyError(message, { code: 'usage', stage: 'xray' });
}

/** dive's defaults, then the `.dive-ci` file, then the flags: the later one wins. */
export function resolveRules(options: XrayOptions, cwd = process.cwd()): CiRules {
  let rules: CiRules = { ...DIVE_DEFAULT_RULES };
  const file = options.ciConfig ?? (existsSync(`${cwd}/.dive-ci`) ? `${cwd}/.dive-ci` : undefined);
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw usage(`--ci-config: cannot read ${file}: ${(error as Error).message}`);
    }
    rules = { ...rules, ...parseDiveCi(text, file) };
  }
  if (options.lowestEfficiency !== undefined) rules.lowestEfficiency = parseRatio(options.lowestEfficiency, '--lowest-efficiency');
  if (options.highestWastedBytes !== undefined) rules.highestWastedBytes = parseBytes(options.highestWastedBytes, '--highest-wasted-bytes');
  if (options.highestUserWastedPercent !== undefined) {
    rules.highestUserWastedPercent = parseRatio(options.highestUserWastedPercent, '--highest-user-wasted-percent');
  }
  return rules;
}

export function registerXray(program: Command): void {
  program
    .command('xray')
    .description("show where an image's bytes go: layers, dive's efficiency and wasted bytes, what is really reclaimable")
    .argument('[image]', 'image in the local engine')
    .option('--archive <file>', 'read a `docker save` tarball instead of the engine')
    .option('--json', 'print the report as JSON')
    .option('--top <n>', 'entries per list', '10')
    .option('--ci', "check dive's CI rules and exit non-zero (6) when one fails")
    .option('--ci-config <file>', 'dive CI rules file (default: ./.dive-ci when it exists)')
    .addOption(new Option('--lowest-efficiency <ratio>', 'fail below this efficiency (dive default 0.9; "disabled")'))
    .addOption(new Option('--highest-wasted-bytes <bytes>', 'fail above this many wasted bytes (20MB, 1GiB; default disabled)'))
    .addOption(new Option('--highest-user-wasted-percent <ratio>', 'fail above this share of wasted bytes in user layers (dive default 0.1)'))
    .action(async (image: string | undefined, options: XrayOptions) => {
      if (!image === !options.archive) throw usage('xray needs exactly one of IMAGE or --archive FILE');
      const top = Number(options.top);
      if (!Number.isInteger(top) || top < 1) throw usage(`--top: "${options.top}" is not a positive whole number`);
      const rules = options.ci ? resolveRules(options) : undefined;
      // loaded here, not at start-up, like every command's pipeline
      const [{ xrayArchive, xrayImage }, { renderRules, renderText }] = await Promise.all([import('../xray/xray.js'), import('../xray/render-text.js')]);
      const report = options.archive ? await xrayArchive(options.archive, { top: Math.max(top, 20) }) : await xrayImage(image!, { top: Math.max(top, 20) });
      const ci: RuleResult[] | undefined = rules ? evaluateRules(rules, report.dive) : undefined;
      if (options.json) process.stdout.write(`${JSON.stringify(ci ? { ...report, ci } : report, null, 2)}\n`);
      else process.stdout.write(renderText(report, top) + (ci ? renderRules(ci) : ''));
      const failed = ci?.filter((r) => r.status === 'fail') ?? [];
      if (failed.length) {
        throw new SlimifyError(`xray: ${failed.length} CI rule(s) failed for ${report.image.ref}`, {
          code: 'verify-failed',
          stage: 'xray',
          image: report.image.ref,
          details: failed.map((r) => r.message),
        });
      }
    });
}
