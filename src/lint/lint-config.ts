/** The lint config file (`.slimify-lint.json`): ignored rules and the failure threshold. */
import { readFileSync } from 'node:fs';
import { SlimifyError } from '../errors.js';
import { SEVERITY_ORDER } from './finding.js';
import type { LintConfig, Threshold } from './lint.js';

export const CONFIG_FILE = '.slimify-lint.json';

export function parseThreshold(value: string, where: string): Threshold {
  const lower = value.toLowerCase();
  if (lower === 'none' || (SEVERITY_ORDER as readonly string[]).includes(lower)) return lower as Threshold;
  throw new SlimifyError(`${where}: "${value}" is not a threshold: use one of error, warning, info, style, none`, { code: 'usage', stage: 'lint' });
}

export function parseLintConfig(text: string, source: string): LintConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new SlimifyError(`${source} is not valid JSON: ${(error as Error).message}`, { code: 'usage', stage: 'lint', cause: error });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SlimifyError(`${source}: expected an object like {"ignored": ["DL3008"], "failureThreshold": "warning"}`, { code: 'usage', stage: 'lint' });
  const config: LintConfig = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'ignored' && Array.isArray(value) && value.every((v) => typeof v === 'string')) config.ignored = value as string[];
    else if ((key === 'failureThreshold' || key === 'failure-threshold') && typeof value === 'string') config.failureThreshold = parseThreshold(value, `${source}: ${key}`);
    else throw new SlimifyError(`${source}: unknown or malformed key "${key}": the keys are ignored (a list of rule IDs) and failureThreshold`, { code: 'usage', stage: 'lint' });
  }
  return config;
}

export function readLintConfig(path: string): LintConfig {
  return parseLintConfig(readFileSync(path, 'utf8'), path);
}
