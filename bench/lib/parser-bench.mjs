// Runs the trace parser's own throughput benchmark (scripts/bench-parser.mjs) and reads its output.
import { execa } from 'execa';

const SCRIPT = new URL('../../scripts/bench-parser.mjs', import.meta.url).pathname;

export async function runParserBench(millionLines, samples, repeat) {
  const args = [SCRIPT, String(millionLines), ...(samples ? ['--samples'] : []), `--repeat=${repeat}`];
  const result = await execa(process.execPath, args, { reject: false, stderr: 'inherit' });
  return {
    command: `node scripts/bench-parser.mjs ${args.slice(1).join(' ')}`,
    input: samples ? 'real sample traces replayed (test/samples/strace)' : 'synthetic mix',
    exitCode: result.exitCode,
    ...parserFigures(result.stdout),
    output: result.stdout,
  };
}

/** The figures bench-parser.mjs prints (those of its median run, with every run's throughput); null for any it did not print. */
export function parserFigures(out) {
  const number = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1].replaceAll(',', '')) : null;
  };
  return {
    lines: number(/lines:\s+([\d,]+)/),
    megabytes: number(/lines:\s+[\d,]+ \((\d+) MB\)/),
    wallSeconds: number(/time:\s+([\d.]+) s wall/),
    cpuSeconds: number(/([\d.]+) s CPU/),
    linesPerCpuSecond: number(/throughput:\s+([\d,]+) lines per CPU second/),
    linesPerWallSecond: number(/([\d,]+) lines\/s wall/),
    peakRssMiB: number(/peak RSS:\s+(\d+) MiB/),
    runsLinesPerCpuSecond: /lines per CPU second: ([\d, ]+)$/m.exec(out)?.[1].split(', ').map((n) => Number(n.replaceAll(',', ''))) ?? null,
  };
}
