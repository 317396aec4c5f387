// The benchmark's arithmetic, apart from the engine: which round stands for an image, how much of
// a build the report's stages cover, and how the run compares with the targets of issue 7.

export const TARGETS = { overhead: 1.5, scaleRssBytes: 300e6, linesPerSecond: 500_000 };

/** The ways of reading an image besides where the engine mounts it, as SLIMIFY_READ names them. */
export const OTHER_WAYS = ['container', 'export'];

/** The item of median `key` (of an even count, the lower of the two middle ones); undefined for none. */
export function medianBy(items, key) {
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[(sorted.length - 1) >> 1];
}

/**
 * What an image's rounds come to: the round of median overhead stands for it; peak memory is the
 * worst round's; each other way has its own round of median overhead (over that round's floor).
 */
export function summariseRounds(rounds) {
  const median = medianBy(rounds, (x) => x.overhead);
  const ways = {};
  for (const way of OTHER_WAYS) {
    const wayRounds = rounds.map((x) => x.result.ways?.[way]).filter(Boolean);
    if (wayRounds.length) ways[way] = medianBy(wayRounds, (w) => w.overhead);
  }
  return {
    median,
    peakRssBytes: Math.max(...rounds.map((x) => x.result.peakRssBytes ?? 0)),
    gnuTimeMaxRssBytes: Math.max(...rounds.map((x) => x.result.gnuTimeMaxRssBytes ?? 0)) || null,
    ways,
  };
}

/** Milliseconds covered by at least one stage (stages overlap: the index runs during the trace). */
export function coveredMs(stages) {
  const spans = stages.map((st) => [st.startMs ?? 0, (st.startMs ?? 0) + st.ms]).sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let reach = -Infinity;
  for (const [start, end] of spans) {
    if (end <= reach) continue;
    covered += end - Math.max(start, reach);
    reach = end;
  }
  return covered;
}

const WAY_TARGETS = {
  container: 'the same, the image read inside a container (SLIMIFY_READ=container: the default when slimify is not root, or the engine is remote)',
  export: 'the same, the image read through docker export (SLIMIFY_READ=export: the fallback when reading inside a container fails)',
};

/** One row per target: what it asks, what the run measured, whether that meets it, and by how much it misses. */
export function targets(run) {
  const out = [];
  const measured = run.results.filter((r) => r.overhead != null);
  if (run.scale?.large?.overhead != null) measured.push(run.scale.large);
  const worst = measured.reduce((w, r) => (w === undefined || r.overhead > w.overhead ? r : w), undefined);
  if (worst) {
    const misses = measured.filter((r) => r.overhead > TARGETS.overhead);
    out.push({
      target: `overhead over the floor ≤ ${TARGETS.overhead}x on every image`,
      measured: `worst ${worst.overhead.toFixed(2)}x (${worst.name}); ${misses.length} of ${measured.length} above`,
      met: misses.length === 0,
      by: `${(worst.overhead / TARGETS.overhead).toFixed(1)}x over the target on ${worst.name}`,
    });
  }
  for (const way of OTHER_WAYS) {
    const rows = measured.filter((r) => r.ways?.[way]);
    if (rows.length === 0) continue;
    const worstWay = rows.reduce((w, r) => (r.ways[way].overhead > w.ways[way].overhead ? r : w));
    const misses = rows.filter((r) => r.ways[way].overhead > TARGETS.overhead);
    out.push({
      target: WAY_TARGETS[way],
      measured: `worst ${worstWay.ways[way].overhead.toFixed(2)}x (${worstWay.name}); ${misses.length} of ${rows.length} above`,
      met: misses.length === 0,
      by: `${(worstWay.ways[way].overhead / TARGETS.overhead).toFixed(1)}x over the target on ${worstWay.name}`,
    });
  }
  const large = run.scale?.large;
  if (large?.peakRssBytes) {
    out.push({
      target: 'peak memory < 300 MB on the 2 GB image',
      measured: `${(large.peakRssBytes / 1e6).toFixed(0)} MB (small image: ${(run.scale.small.peakRssBytes / 1e6).toFixed(0)} MB)`,
      met: large.peakRssBytes < TARGETS.scaleRssBytes,
      by: `${((large.peakRssBytes - TARGETS.scaleRssBytes) / 1e6).toFixed(0)} MB over`,
    });
  }
  for (const p of run.parser) {
    if (p.linesPerCpuSecond == null) continue;
    out.push({
      target: `trace parsing ≥ ${TARGETS.linesPerSecond.toLocaleString('en-US')} lines/s on one core (${p.input})`,
      measured: `${p.linesPerCpuSecond.toLocaleString('en-US')} lines per CPU second${rangeOf(p.runsLinesPerCpuSecond)}`,
      met: p.linesPerCpuSecond >= TARGETS.linesPerSecond,
      by: `${(TARGETS.linesPerSecond / p.linesPerCpuSecond).toFixed(1)}x too slow`,
    });
  }
  return out;
}

/** ` (median of N: LOW-HIGH)` for several runs' figures, else nothing. */
function rangeOf(runs) {
  if (!runs || runs.length < 2) return '';
  const f = (n) => n.toLocaleString('en-US');
  return ` (median of ${runs.length}: ${f(Math.min(...runs))}-${f(Math.max(...runs))})`;
}
