/**
 * `slimify lint`: runs every rule over a parsed Dockerfile, drops what inline comments and the
 * config ignore, and decides pass or fail against the failure threshold. Pure; the CLI reads files.
 */
import { parseDockerfile, type DockerfileModel, type InstructionModel } from './dockerfile-model.js';
import { SEVERITY_ORDER, type BuildContext, type Finding, type Rule, type RuleContext, type Severity } from './finding.js';
import { HADOLINT_RULES } from './rules-hadolint.js';
import { SLIMIFY_RULES } from './rules-slimify.js';
import { shellCommands, type SimpleCommand } from './shell-commands.js';

export const RULES: readonly Rule[] = [...HADOLINT_RULES, ...SLIMIFY_RULES];

export type Threshold = Severity | 'none';

export interface LintConfig {
  ignored?: string[];
  failureThreshold?: Threshold;
}

export interface LintOptions {
  file: string;
  build?: BuildContext;
  config?: LintConfig;
}

const IGNORE = /^(?:hadolint|slimify)\s+ignore\s*=\s*([A-Z0-9, ]+)/i;
const GLOBAL_IGNORE = /^(?:hadolint|slimify)\s+global\s+ignore\s*=\s*([A-Z0-9, ]+)/i;

function ids(list: string): string[] {
  return list.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
}

/** Rule IDs ignored per instruction line, from the comment lines right above it. */
function inlineIgnores(model: DockerfileModel): { byLine: Map<number, Set<string>>; global: Set<string> } {
  const comments = new Map(model.comments.map((c) => [c.line, c.text.trim()]));
  const global = new Set<string>();
  for (const text of comments.values()) {
    const match = GLOBAL_IGNORE.exec(text);
    if (match) ids(match[1]!).forEach((id) => global.add(id));
  }
  const byLine = new Map<number, Set<string>>();
  for (const instruction of model.instructions) {
    const set = new Set<string>();
    for (let line = instruction.line - 1; comments.has(line); line--) {
      const match = IGNORE.exec(comments.get(line)!);
      if (match) ids(match[1]!).forEach((id) => set.add(id));
    }
    if (set.size) for (let line = instruction.line; line <= instruction.endLine; line++) byLine.set(line, set);
  }
  return { byLine, global };
}

export function ruleContext(file: string, model: DockerfileModel, build: BuildContext = {}): RuleContext {
  const cache = new Map<InstructionModel, SimpleCommand[]>();
  return {
    file,
    model,
    build,
    commands(instruction) {
      let commands = cache.get(instruction);
      if (!commands) {
        if (instruction.shell !== undefined) commands = shellCommands(instruction.shell);
        else if (instruction.exec?.length) commands = [{ name: instruction.exec[0]!, args: instruction.exec.slice(1), env: {} }];
        else commands = [];
        cache.set(instruction, commands);
      }
      return commands;
    },
    finalStage: () => model.stages[model.stages.length - 1],
  };
}

export function lintDockerfile(text: string, options: LintOptions): Finding[] {
  const model = parseDockerfile(text);
  return lintModel(model, options);
}

export function lintModel(model: DockerfileModel, options: LintOptions): Finding[] {
  const context = ruleContext(options.file, model, options.build);
  const findings: Finding[] = [];
  for (const rule of RULES) {
    for (const found of rule.check(context)) {
      findings.push({ rule: rule.id, file: options.file, ...found, severity: found.severity ?? rule.severity });
    }
  }
  return filterFindings(findings, model, options.config);
}

export function filterFindings(findings: Finding[], model: DockerfileModel, config: LintConfig = {}): Finding[] {
  const { byLine, global } = inlineIgnores(model);
  const ignored = new Set((config.ignored ?? []).map((id) => id.toUpperCase()));
  return findings
    .filter((f) => !ignored.has(f.rule) && !global.has(f.rule) && !byLine.get(f.line)?.has(f.rule))
    .sort((a, b) => a.line - b.line || a.rule.localeCompare(b.rule));
}

/** True when a finding is at or above the threshold ('none' never fails). */
export function failsThreshold(findings: Finding[], threshold: Threshold = 'info'): Finding[] {
  if (threshold === 'none') return [];
  const limit = SEVERITY_ORDER.indexOf(threshold);
  return findings.filter((f) => SEVERITY_ORDER.indexOf(f.severity) >= limit);
}
