import { describe, expect, it } from 'vitest';
import { DIVE_DEFAULT_RULES, evaluateRules, parseBytes, parseDiveCi } from '../../../src/xray/ci-rules.js';

describe("dive's CI rules", () => {
  it("reads a .dive-ci file with dive's names, units and 'disabled'", () => {
    const rules = parseDiveCi(['rules:', '  # comment', '  lowestEfficiency: 0.95', '  highestWastedBytes: 20MB', '  highestUserWastedPercent: disabled', ''].join('\n'));
    expect(rules).toEqual({ lowestEfficiency: 0.95, highestWastedBytes: 20_000_000, highestUserWastedPercent: undefined });
  });

  it('parses binary and decimal byte units as dive does', () => {
    expect(parseBytes('1.5KiB', 'x')).toBe(1536);
    expect(parseBytes('2 kB', 'x')).toBe(2000);
    expect(() => parseBytes('lots', '--highest-wasted-bytes')).toThrow(/--highest-wasted-bytes: "lots" is not a byte count/);
  });

  it('refuses an unknown rule by name', () => {
    expect(() => parseDiveCi('rules:\n  lowestEfficency: 0.9\n')).toThrow(/unknown rule "lowestEfficency"/);
  });

  it("fails on dive's defaults when user layers waste more than 10 %", () => {
    const results = evaluateRules(DIVE_DEFAULT_RULES, { efficiency: 0.95, wastedBytes: 5000, userWastedPercent: 0.2 });
    expect(results.map((r) => [r.rule, r.status])).toEqual([
      ['lowestEfficiency', 'pass'],
      ['highestWastedBytes', 'disabled'],
      ['highestUserWastedPercent', 'fail'],
    ]);
  });
});
