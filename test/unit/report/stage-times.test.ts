// The stage line of the build report says which stages ran alongside others (the index runs
// during the sensor and trace stages), so the times are not read as if they added up.
import { describe, expect, it } from 'vitest';
import { stageTimes } from '../../../src/report/build-report.js';

describe('stageTimes', () => {
  it('lists stages in the order they began and names those that overlapped a longer one', () => {
    const line = stageTimes([
      { stage: 'inspect', ms: 10, startMs: 0 },
      { stage: 'sensor', ms: 700, startMs: 60 },
      { stage: 'trace', ms: 1900, startMs: 760 },
      { stage: 'index', ms: 3100, startMs: 50 },
      { stage: 'closure', ms: 40, startMs: 3200 },
    ]);
    expect(line).toBe('inspect 0.0s, index 3.1s (alongside sensor, trace), sensor 0.7s, trace 1.9s, closure 0.0s');
  });

  it('names the overlap once when two stages began together', () => {
    expect(stageTimes([{ stage: 'trace', ms: 1200, startMs: 500 }, { stage: 'index', ms: 2400, startMs: 500 }])).toBe('index 2.4s (alongside trace), trace 1.2s');
  });

  it('adds nothing when the stages ran one after another', () => {
    expect(stageTimes([{ stage: 'a', ms: 100, startMs: 0 }, { stage: 'b', ms: 100, startMs: 100 }])).toBe('a 0.1s, b 0.1s');
  });
});
