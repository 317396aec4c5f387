import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { mainFirst, readTraces } from '../../../src/run/read-traces.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const open = (pid: number, path: string) => `${pid} openat(AT_FDCWD, "${path}", O_RDONLY|O_CLOEXEC) = 3</dev/null>\n`;

describe('readTraces from a bound trace dir', () => {
  it("reads only this run's regular files: not other runs', not links, not FIFOs", async () => {
    dir = mkdtempSync(join(tmpdir(), 'slimify-read-traces-test-'));
    const secret = join(dir, 'host-file.txt');
    writeFileSync(secret, open(1, '/from/a/link'));
    writeFileSync(join(dir, 'traced-aaaa-main.log'), open(1, '/etc/main'));
    writeFileSync(join(dir, 'traced-aaaa-exec-1.log'), open(7, '/etc/exec1'));
    writeFileSync(join(dir, 'traced-bbbb-main.log'), open(1, '/etc/other-run'));
    symlinkSync(secret, join(dir, 'traced-aaaa-exec-2.log'));
    execFileSync('mkfifo', [join(dir, 'traced-aaaa-exec-3.log')]);

    const summary = await readTraces({ dir }, '/', 'traced-aaaa');
    const used = summary.used.map((u) => u.path).sort();
    expect(used).toEqual(['/etc/exec1', '/etc/main']);
  });
});

describe('readTraces, snapshot of a trace still being written', () => {
  it('reads each file up to its last complete line', async () => {
    dir = mkdtempSync(join(tmpdir(), 'slimify-read-traces-test-'));
    // strace is in the middle of a line: the path it is writing must not count as used
    writeFileSync(join(dir, 'traced-aaaa-main.log'), open(1, '/etc/done') + '1 openat(AT_FDCWD, "/etc/half');
    const snapshot = await readTraces({ dir }, '/', 'traced-aaaa', { snapshot: true });
    expect(snapshot.used.map((u) => u.path)).toEqual(['/etc/done']);
    expect(snapshot.lines.total).toBe(1);
  });
});

describe('mainFirst', () => {
  it('puts main.log first, then the exec logs in the order they ran', () => {
    expect(mainFirst(['r-exec-10.log', 'r-exec-2.log', 'r-main.log', 'r-exec-1.log'])).toEqual(['r-main.log', 'r-exec-1.log', 'r-exec-2.log', 'r-exec-10.log']);
  });
});
