#!/usr/bin/env node
// Throughput benchmark of the streaming strace parser (src/trace).
//
//   node scripts/bench-parser.mjs [millionLines=2] [--samples] [--repeat=N] [--keep-trace=FILE]
//   node scripts/bench-parser.mjs --instructions [millionLines=0.3] [--samples]
//
// --repeat=N parses the same trace N times, each in a fresh process, and reports the run of
// median throughput with the range of all N (the time of one parse varies by 20% on a shared
// machine).
//
// --keep-trace=FILE copies the generated trace to FILE (to compare parsers on the same input).
//
// --instructions counts the machine instructions a line costs, under valgrind's callgrind: a
// figure to compare two versions of the parser by on a shared machine, where the time of the
// same run varies by 20% (runs of the same code mostly agree within 2%, some come out 7% higher:
// compare medians of three). The parser runs twice, on the trace and on its first third; the
// difference, divided by the lines between, leaves out Node's start-up and most of the JIT's
// compiling. It includes the garbage collector's work (V8's predictable mode: one thread, a
// fixed collection schedule), not cache misses. Under callgrind Node runs some 50 times
// slower: 0.3 million lines take about 3 minutes.
//
// --samples replays the real traces in test/samples/strace (pids shifted per copy) instead of
// the synthetic mix: fewer distinct paths, closer to what a real application produces.
//
// Compiles src/trace alone into a temp dir (the project's dist/ is left alone), writes a
// synthetic trace of realistic lines (openat/stat/execve/clone, unfinished/resumed pairs,
// many pids) to a temp file, parses it with parseTrace() in a fresh child process and prints
// lines/s and that process's peak RSS. Temp files are removed whatever happens.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, createReadStream, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { medianBy } from '../bench/lib/summary.mjs';

const TARGET_LINES_PER_SECOND = 500_000;

if (process.argv[2] === '--child') {
  await parseInChild(process.argv[3], process.argv[4]);
} else {
  await main();
}

async function main() {
  const instructions = process.argv.includes('--instructions');
  if (instructions) checkValgrind();
  const millions = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? (instructions ? 0.3 : 2));
  if (!(millions > 0)) throw new Error(`millionLines must be a positive number, got ${process.argv[2]}`);
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const work = mkdtempSync(join(tmpdir(), 'slimify-bench-'));
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  process.once('SIGINT', () => { cleanup(); process.exit(130); });
  try {
    const out = join(work, 'build');
    process.stderr.write('compiling src/trace ...\n');
    execFileSync('npx', [
      'tsc', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--lib', 'ES2023',
      '--strict', '--skipLibCheck', '--types', 'node', '--rootDir', join(root, 'src'), '--outDir', out,
      join(root, 'src/trace/index.ts'),
    ], { cwd: root, stdio: 'inherit' });

    const trace = join(work, 'trace.log');
    const lines = Math.round(millions * 1_000_000);
    process.stderr.write(`writing ${lines.toLocaleString()} synthetic lines ...\n`);
    const bytes = process.argv.includes('--samples')
      ? writeReplayedSamples(trace, lines, join(root, 'test/samples/strace'))
      : writeSyntheticTrace(trace, lines);

    const keep = process.argv.find((a) => a.startsWith('--keep-trace='));
    if (keep !== undefined) copyFileSync(trace, keep.slice('--keep-trace='.length));
    if (instructions) {
      countInstructions(join(out, 'trace/index.js'), trace, lines, join(work, 'third.log'));
      return;
    }

    const repeat = Number(process.argv.find((a) => a.startsWith('--repeat='))?.slice('--repeat='.length) ?? 1);
    if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat takes a whole number of runs (1 or more)`);
    const runs = [];
    for (let k = 1; k <= repeat; k++) {
      process.stderr.write(`parsing${repeat > 1 ? ` (run ${k} of ${repeat})` : ''} ...\n`);
      runs.push(parseOnce(join(out, 'trace/index.js'), trace));
    }
    // CPU time is the fair measure on a shared machine: wall time includes waiting for a core.
    const rateOf = (run) => run.lines / run.cpuSeconds;
    const r = medianBy(runs, rateOf);
    const rate = rateOf(r);
    console.log(`lines:        ${r.lines.toLocaleString()} (${(bytes / 1e6).toFixed(0)} MB)`);
    console.log(`time:         ${r.seconds.toFixed(2)} s wall, ${r.cpuSeconds.toFixed(2)} s CPU`);
    console.log(`throughput:   ${Math.round(rate).toLocaleString()} lines per CPU second, ` +
      `${Math.round(r.lines / r.seconds).toLocaleString()} lines/s wall (${(bytes / 1e6 / r.seconds).toFixed(0)} MB/s)` +
      `  target ${TARGET_LINES_PER_SECOND.toLocaleString()}: ${rate >= TARGET_LINES_PER_SECOND ? 'met' : 'MISSED'}`);
    if (runs.length > 1) {
      const figures = runs.map((run) => Math.round(rateOf(run)).toLocaleString());
      console.log(`runs:         ${runs.length}, median shown; lines per CPU second: ${figures.join(', ')}`);
    }
    console.log(`peak RSS:     ${(r.maxRssKb / 1024).toFixed(0)} MiB (parser process)`);
    console.log(`summary:      ${r.used} used, ${r.missing} missing, ${r.pids} pids, ${r.malformed} malformed, ` +
      `${r.unmatchedResumed} unmatched resumed`);
  } finally {
    cleanup();
  }
}

/** One parse of `trace` in a fresh process (no JIT warmth or heap carried over from another run). */
function parseOnce(modulePath, trace) {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', modulePath, trace], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (child.status !== 0) throw new Error(`parser child failed with status ${child.status}`);
  return JSON.parse(child.stdout);
}

function checkValgrind() {
  const probe = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error('--instructions needs valgrind on the PATH (Debian: apt-get install valgrind)');
  }
}

/** Instructions per line: callgrind's count for the whole trace less that for its first third, over the lines between. */
function countInstructions(modulePath, trace, lines, third) {
  const thirdLines = copyFirstLines(trace, third, Math.floor(lines / 3));
  const count = (file, about) => {
    process.stderr.write(`callgrind: parsing ${about.toLocaleString()} lines (Node runs some 50 times slower) ...\n`);
    const run = spawnSync('valgrind', [
      '--tool=callgrind', '--callgrind-out-file=/dev/null',
      process.execPath, '--predictable', '--predictable-gc-schedule', fileURLToPath(import.meta.url), '--child', modulePath, file,
    ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
    const m = /Collected\s*:\s*(\d+)/.exec(run.stderr);
    if (run.status !== 0 || !m) throw new Error(`callgrind run failed (status ${run.status}):\n${run.stderr.slice(-2000)}`);
    return { instructions: Number(m[1]), lines: JSON.parse(run.stdout).lines };
  };
  const all = count(trace, lines);
  const first = count(third, thirdLines);
  const perLine = (all.instructions - first.instructions) / (all.lines - first.lines);
  console.log(`instructions: ${Math.round(perLine).toLocaleString()} per line, lines ${(first.lines + 1).toLocaleString()} to ` +
    `${all.lines.toLocaleString()} (callgrind: ${all.instructions.toLocaleString()} for all ${all.lines.toLocaleString()} lines, ` +
    `${first.instructions.toLocaleString()} for the first ${first.lines.toLocaleString()})`);
}

/** Copy the first `n` lines of `from` to `to`; returns n. */
function copyFirstLines(from, to, n) {
  const text = readFileSync(from, 'latin1');
  let at = 0;
  for (let k = 0; k < n; k++) at = text.indexOf('\n', at) + 1;
  const fd = openSync(to, 'w');
  try {
    writeSync(fd, text.slice(0, at), null, 'latin1');
  } finally {
    closeSync(fd);
  }
  return n;
}

async function parseInChild(modulePath, trace) {
  const { parseTrace } = await import(pathToFileURL(modulePath).href);
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const s = await parseTrace(createReadStream(trace, { highWaterMark: 1 << 20 }), { initialCwd: '/app' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuStart);
  process.stdout.write(JSON.stringify({
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    lines: s.lines.total,
    used: s.used.length,
    missing: s.missing.length,
    pids: s.pids,
    malformed: s.lines.malformed,
    unmatchedResumed: s.lines.unmatchedResumed,
    maxRssKb: process.resourceUsage().maxRSS,
  }));
}

/** The real sample traces, copied until `total` lines, each copy with its own pids. */
function writeReplayedSamples(file, total, dir) {
  const sample = readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .flatMap((f) => readFileSync(join(dir, f), 'latin1').split('\n').filter(Boolean))
    .map((line) => {
      const sp = line.indexOf(' ');
      return [Number(line.slice(0, sp)), line.slice(sp)];
    });
  const fd = openSync(file, 'w');
  let bytes = 0;
  try {
    for (let n = 0, copy = 0; n < total; copy++) {
      const lines = [];
      for (const [pid, rest] of sample) {
        if (n++ >= total) break;
        lines.push(`${pid + copy * 100_000}${rest}`);
      }
      bytes += writeSync(fd, lines.join('\n') + '\n', null, 'latin1');
    }
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** A deterministic mix shaped like real traces (see test/samples/strace). Returns bytes written. */
function writeSyntheticTrace(file, total) {
  let seed = 42;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(rand() * n);
  const dirs = ['/usr/lib/python3.11', '/usr/lib/x86_64-linux-gnu', '/app/node_modules/lib', '/etc', '/usr/share/zoneinfo/Europe', '/app/src/handlers', '/var/lib/app/cache'];
  const names = Array.from({ length: 8000 }, (_, i) => `mod${i}${i % 7 === 0 ? '\\303\\251' : ''}${['.py', '.so.6', '.js', '.json', '', '.pyc'][i % 6]}`);
  const path = () => `${dirs[int(dirs.length)]}/${names[int(names.length)]}`;
  const cwds = ['/app', '/usr/lib', '/tmp', '/'];

  let nextPid = 1000;
  const pids = [nextPid++];
  const pending = new Map(); // pid -> resumed tail
  const fd = openSync(file, 'w');
  let bytes = 0;
  let batch = [];
  const emit = (line) => {
    batch.push(line);
    if (batch.length === 20_000) flush();
  };
  const flush = () => {
    const text = batch.join('\n') + '\n';
    bytes += writeSync(fd, text);
    batch = [];
  };
  try {
    for (let n = 0; n < total; ) {
      const pid = pids[int(pids.length)];
      const p = `${pid}`.padEnd(5, ' ') + ' ';
      if (pending.has(pid)) {
        emit(`${p}<... ${pending.get(pid)}`);
        pending.delete(pid);
        n++;
        continue;
      }
      const cwd = cwds[pid % cwds.length];
      const r = int(100);
      if (r < 35) {
        const q = path();
        emit(`${p}openat(AT_FDCWD<${cwd}>, "${q}", O_RDONLY|O_CLOEXEC) = 3<${q}>`);
      } else if (r < 55) {
        emit(`${p}newfstatat(AT_FDCWD<${cwd}>, "${path()}", 0x7ffce82feda0, 0) = -1 ENOENT (No such file or directory)`);
      } else if (r < 65) {
        const q = path();
        emit(`${p}newfstatat(3<${q}>, "", {st_mode=S_IFREG|0644, st_size=${int(1e6)}, ...}, AT_EMPTY_PATH) = 0`);
      } else if (r < 70) {
        emit(`${p}openat(3<${dirs[int(dirs.length)]}>, "${names[int(names.length)]}", O_RDONLY|O_NONBLOCK|O_CLOEXEC|O_DIRECTORY) = 4<${path()}>`);
      } else if (r < 75) {
        emit(`${p}getdents64(3<${dirs[int(dirs.length)]}>, 0x55f7be1992a0 /* ${int(300)} entries */, 32768) = ${int(9000)}`);
      } else if (r < 80) {
        emit(`${p}access("${path()}", R_OK) = 0`);
      } else if (r < 84) {
        emit(`${p}readlink("/proc/self/exe", "/usr/bin/python3.11", 4096) = 19`);
      } else if (r < 90) {
        emit(`${p}newfstatat(AT_FDCWD<${cwd}>, "${path()}", ${' '.repeat(0)} <unfinished ...>`);
        pending.set(pid, `newfstatat resumed>{st_mode=S_IFREG|0644, st_size=${int(1e5)}, ...}, 0) = 0`);
      } else if (r < 93) {
        emit(`${p}wait4(-1,  <unfinished ...>`);
        pending.set(pid, 'wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 0');
      } else if (r < 96 && pids.length < 300) {
        const child = nextPid++;
        emit(`${p}vfork( <unfinished ...>`);
        const c = `${child}`.padEnd(5, ' ') + ' ';
        emit(`${c}execve("/usr/bin/tool${int(50)}", ["tool", "--flag", "${names[int(names.length)]}"], 0x55a79f8d5fd8 /* 35 vars */ <unfinished ...>`);
        emit(`${p}<... vfork resumed>)              = ${child}`);
        emit(`${c}<... execve resumed>)             = 0`);
        pids.push(child);
        n += 3;
      } else if (r < 98 && pids.length < 300) {
        const child = nextPid++;
        emit(`${p}clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7f26e0fa3990, parent_tid=0x7f26e0fa3990, exit_signal=0, stack=0x7f26e07a3000, stack_size=0x7fff80, tls=0x7f26e0fa36c0} => {parent_tid=[${child}]}, 88) = ${child}`);
        pids.push(child);
      } else if (pids.length > 50) {
        const i = 1 + int(pids.length - 1);
        emit(`${pids[i]}`.padEnd(5, ' ') + ' exit_group(0)                     = ?');
        pending.delete(pids[i]);
        pids.splice(i, 1);
      } else {
        emit(`${p}chdir("${cwd}") = 0`);
      }
      n++;
    }
    flush();
  } finally {
    closeSync(fd);
  }
  return bytes;
}
