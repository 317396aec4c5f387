/**
 * dive's CI rules: the same names, defaults and `.dive-ci` file, so a pipeline can switch from
 * `dive --ci` to `slimify xray --ci` without new thresholds.
 */
import { SlimifyError } from '../errors.js';
import type { DiveEfficiency } from './efficiency.js';

export interface CiRules {
  /** Fails when efficiency is below this ratio; undefined = disabled. */
  lowestEfficiency?: number;
  highestWastedBytes?: number;
  /** A ratio, as in dive (0.1 = 10 %). */
  highestUserWastedPercent?: number;
}

export const DIVE_DEFAULT_RULES: CiRules = { lowestEfficiency: 0.9, highestUserWastedPercent: 0.1 };

export interface RuleResult {
  rule: keyof CiRules;
  status: 'pass' | 'fail' | 'disabled';
  limit?: number;
  actual: number;
  message: string;
}

const UNITS: Record<string, number> = {
  '': 1, b: 1,
  k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  ki: 1024, kib: 1024, mi: 1024 ** 2, mib: 1024 ** 2, gi: 1024 ** 3, gib: 1024 ** 3, ti: 1024 ** 4, tib: 1024 ** 4,
};

/** Parses a byte count as dive does ("20MB" = 20 000 000, "20MiB" = 20 971 520, "disabled"). */
export function parseBytes(value: string, option: string): number | undefined {
  const text = value.trim().toLowerCase();
  if (text === 'disabled') return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/.exec(text);
  const unit = match ? UNITS[match[2]!] : undefined;
  if (!match || unit === undefined) {
    throw new SlimifyError(`${option}: "${value}" is not a byte count: use a number with an optional unit (20MB, 1.5GiB) or "disabled"`, { code: 'usage', stage: 'xray' });
  }
  return Math.round(Number(match[1]) * unit);
}

export function parseRatio(value: string, option: string): number | undefined {
  const text = value.trim().toLowerCase();
  if (text === 'disabled') return undefined;
  const number = Number(text);
  if (text === '' || !Number.isFinite(number) || number < 0 || number > 1) {
    throw new SlimifyError(`${option}: "${value}" is not a ratio between 0 and 1 (0.9 = 90 %) or "disabled"`, { code: 'usage', stage: 'xray' });
  }
  return number;
}

/** Reads dive's `.dive-ci` (YAML, a flat `rules:` mapping); unknown keys are refused by name. */
export function parseDiveCi(text: string, source = '.dive-ci'): CiRules {
  const rules: CiRules = {};
  let inRules = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\s+#.*$/, '').replace(/^#.*$/, '');
    if (!line.trim()) continue;
    if (/^rules:\s*$/.test(line)) {
      inRules = true;
      continue;
    }
    if (!/^\s/.test(line)) {
      inRules = false;
      continue;
    }
    if (!inRules) continue;
    const match = /^\s+([A-Za-z]+):\s*(.*?)\s*$/.exec(line);
    if (!match) throw new SlimifyError(`${source}: cannot read the line "${raw.trim()}"`, { code: 'usage', stage: 'xray' });
    const key = match[1]!;
    const value = match[2]!.replace(/^["']|["']$/g, '');
    const where = `${source}: ${key}`;
    if (key === 'lowestEfficiency') rules.lowestEfficiency = parseRatio(value, where);
    else if (key === 'highestWastedBytes') rules.highestWastedBytes = parseBytes(value, where);
    else if (key === 'highestUserWastedPercent') rules.highestUserWastedPercent = parseRatio(value, where);
    else {
      throw new SlimifyError(`${source}: unknown rule "${key}": the rules are lowestEfficiency, highestWastedBytes and highestUserWastedPercent`, { code: 'usage', stage: 'xray' });
    }
  }
  return rules;
}

export function evaluateRules(rules: CiRules, figures: Pick<DiveEfficiency, 'efficiency' | 'wastedBytes' | 'userWastedPercent'>): RuleResult[] {
  const result = (rule: keyof CiRules, actual: number, limit: number | undefined, failed: boolean, text: string): RuleResult => ({
    rule,
    actual,
    limit,
    status: limit === undefined ? 'disabled' : failed ? 'fail' : 'pass',
    message: limit === undefined ? `${rule}: disabled` : text,
  });
  const pct = (v: number) => `${(v * 100).toFixed(2)} %`;
  const { lowestEfficiency: eff, highestWastedBytes: bytes, highestUserWastedPercent: user } = rules;
  return [
    result('lowestEfficiency', figures.efficiency, eff, eff !== undefined && figures.efficiency < eff, `efficiency ${pct(figures.efficiency)} (lowest allowed ${pct(eff ?? 0)})`),
    result('highestWastedBytes', figures.wastedBytes, bytes, bytes !== undefined && figures.wastedBytes > bytes, `wasted bytes ${figures.wastedBytes} (highest allowed ${bytes})`),
    result('highestUserWastedPercent', figures.userWastedPercent, user, user !== undefined && figures.userWastedPercent > user, `user wasted ${pct(figures.userWastedPercent)} (highest allowed ${pct(user ?? 0)})`),
  ];
}
