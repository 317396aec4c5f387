import { createReadStream, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseStraceLine } from '../../../src/trace/strace-line.js';
import { parseTrace } from '../../../src/trace/trace-parser.js';
import type { TraceSummary } from '../../../src/trace/trace-summary.js';

// Real traces captured on a Debian bookworm host with strace 6.1 and the sensor's flags:
// strace -f -y -qq -I3 -e signal=none -e trace=%file,%process,fchdir,getdents64,getdents -o FILE
// The traced commands started in /tmp/st.
const SAMPLES = fileURLToPath(new URL('../../samples/strace/', import.meta.url));
const sample = (name: string): string => SAMPLES + name + '.log';
const parseSample = (name: string): Promise<TraceSummary> =>
  parseTrace({ input: createReadStream(sample(name)), source: name }, { initialCwd: '/tmp/st' });

const paths = (list: { path: string }[]): string[] => list.map((entry) => entry.path);

describe('real strace samples', () => {
  const names = readdirSync(SAMPLES).filter((f) => f.endsWith('.log')).map((f) => f.slice(0, -4));

  it.each(names)('%s: every line is understood and every unfinished call resumes', async (name) => {
    for (const line of readFileSync(sample(name), 'latin1').split('\n').filter(Boolean)) {
      expect(parseStraceLine(line).kind, line).not.toBe('malformed');
    }
    const s = await parseSample(name);
    expect(s.lines).toMatchObject({ malformed: 0, unmatchedResumed: 0, unfinishedAtEnd: 0 });
    expect(s.lines.parsed).toBe(s.lines.total);
  });

  it('sh-cd: follows cd, relative exec and .. in arguments', async () => {
    const s = await parseSample('sh-cd');
    expect(s.listed).toEqual(['/usr/lib']);
    expect(s.executed).toContainEqual({ path: '/usr/bin/true', count: 1, argv0: ['./true'] });
    expect(s.missing).toContainEqual({
      path: '/usr/share/doc/nonexistent',
      syscalls: ['openat'],
      errnos: ['ENOENT'],
      raw: ['/usr/share/../share/./doc//../doc/nonexistent'],
    });
    expect(s.used.find((u) => u.path === '/tmp/st/work')?.raw).toEqual(['/tmp/st/work/../work']);
    expect(s.used.find((u) => u.path === '/usr/share/locale/locale.alias')?.realPaths).toEqual(['/etc/locale.alias']);
    expect(s.exit).toEqual({ code: 0 });
  });

  it('fileops: records what mkdir, ln, mv, mkfifo, rm and touch did', async () => {
    const s = await parseSample('fileops');
    const w = '/tmp/st/work';
    expect(paths(s.created)).toEqual(
      ['d', 'd/e', 'd/e/f.txt', 'd/g.txt', 'fifo', 'hard', 'link', 'new file'].map((p) => `${w}/${p}`),
    );
    expect(s.renamed).toEqual([{ from: `${w}/d/e/f.txt`, to: `${w}/d/g.txt` }]);
    expect(s.used.find((u) => u.path === `${w}/link`)?.access).toEqual(['readlink']);
    expect(s.used.find((u) => u.path === `${w}/d/e`)?.access).toEqual(['remove']);
    expect(paths(s.pseudo.used)).toEqual(expect.arrayContaining(['/proc/self/status', '/proc/12225/status', '/dev/null']));
    expect(s.pids).toBe(12);
  });

  it('odd-paths: decodes quotes, newlines, tabs, <>, backslashes and non-UTF-8 bytes', async () => {
    const s = await parseSample('odd-paths');
    const dir = '/tmp/st/odd"dir';
    expect(paths(s.used)).toEqual(expect.arrayContaining(
      ['a\nb', 'back\\slash', 'bad\u00ff', 'café', 'sp ace', 'tab\tt', 'x<y>z'].map((p) => `${dir}/${p}`),
    ));
    expect(s.listed).toEqual([dir]);
  });

  it('threads: sees every thread and interleaved unfinished calls', async () => {
    const s = await parseSample('threads');
    expect(s.pids).toBe(6);
    expect(s.listed).toContain('/etc/apt');
    expect(paths(s.used)).toEqual(expect.arrayContaining(['/etc/hostname', '/tmp']));
    expect(paths(s.executed)).toEqual(['/bin/true', '/usr/bin/python3.11']);
  });

  it('python-import: keeps the modules imported and what the import system probed for', async () => {
    const s = await parseSample('python-import');
    expect(paths(s.used)).toContain('/usr/lib/python3.11/json/__pycache__/__init__.cpython-311.pyc');
    expect(paths(s.missing)).toContain('/usr/lib/python3.11/json/__init__.abi3.so');
  });

  it('python-ops: resolves relative renames and creations after os.chdir', async () => {
    const s = await parseSample('python-ops');
    expect(s.renamed).toEqual([{ from: '/tmp/st/work/rel.txt', to: '/tmp/st/work/rel2.txt' }]);
    expect(paths(s.created)).toEqual(['m', 'm/n', 'rel.txt', 'rel2.txt', 'sl'].map((p) => `/tmp/st/work/${p}`));
  });

  it('exec-fail: records every PATH candidate env tried, and the exit status 127', async () => {
    const s = await parseSample('exec-fail');
    expect(paths(s.missing)).toEqual(expect.arrayContaining(
      ['/nope/definitely-missing-cmd', '/also/nope/definitely-missing-cmd', '/usr/bin/definitely-missing-cmd'],
    ));
    expect(s.exit).toEqual({ code: 127 });
  });

  it('exec-path: records the shell\'s PATH search as missing', async () => {
    const s = await parseSample('exec-path');
    expect(paths(s.missing)).toEqual(expect.arrayContaining(
      ['/nonexistent/nosuchcmd', '/usr/local/bin/nosuchcmd', '/usr/bin/nosuchcmd'],
    ));
  });

  it('exit-status: reports the main process\'s exit code, not a child\'s', async () => {
    const s = await parseSample('exit-status');
    expect(s.exit).toEqual({ code: 3 });
  });

  it('gives the same summary whatever the chunking', async () => {
    const text = readFileSync(sample('threads'));
    const whole = await parseTrace([text], { initialCwd: '/tmp/st' });
    const chunks: Buffer[] = [];
    for (let i = 0; i < text.length; i += 113) chunks.push(text.subarray(i, i + 113));
    expect(await parseTrace(chunks, { initialCwd: '/tmp/st' })).toEqual(whole);
  });
});
