import { describe, expect, it } from 'vitest';
import { parseLdd } from '../../../src/sensor/bundle.js';
import { execTraceFile, mainEntrypoint, seccompFilterFor, tracerArgv } from '../../../src/sensor/tracer-command.js';

describe('the sensor command line', () => {
  it('starts strace through its own loader, so no LD_LIBRARY_PATH reaches the app', () => {
    const argv = tracerArgv('/.slimify-trace/traced-1-main.log', ['nginx', '-g', 'daemon off;']);
    expect(argv.slice(0, 4)).toEqual(['/.slimify-sensor/ld.so', '--library-path', '/.slimify-sensor/lib', '/.slimify-sensor/strace']);
    expect(argv.slice(-4)).toEqual(['--', 'nginx', '-g', 'daemon off;']);
    expect(argv).toContain('-f');
    expect(argv).toContain('-y');
    expect(argv.join(' ')).not.toMatch(/LD_LIBRARY_PATH/);
  });

  it('puts the init first in the main entrypoint, and the trace file of the run after -o', () => {
    const argv = mainEntrypoint(['/app'], 'traced-1a2b', { loader: true, seccomp: false });
    expect(argv[0]).toBe('/.slimify-sensor/init');
    expect(argv[argv.indexOf('-o') + 1]).toBe('/.slimify-trace/traced-1a2b-main.log');
    expect(execTraceFile('traced-1a2b', 2)).toBe('/.slimify-trace/traced-1a2b-exec-2.log');
  });

  it('runs a static strace directly when the bundle has no loader', () => {
    expect(tracerArgv('/t', ['x'], { loader: false, seccomp: false })[0]).toBe('/.slimify-sensor/strace');
  });

  it('adds --seccomp-bpf only when asked, before the command', () => {
    const filtered = tracerArgv('/t', ['x', '--seccomp-bpf'], { loader: true, seccomp: true });
    expect(filtered.indexOf('--seccomp-bpf')).toBeLessThan(filtered.indexOf('--'));
    expect(tracerArgv('/t', ['x'], { loader: true, seccomp: false })).not.toContain('--seccomp-bpf');
  });
});

describe('seccompFilterFor', () => {
  it('filters for apps that run as root, whatever the spelling', () => {
    for (const user of [undefined, '', 'root', '0', '0:0', 'root:root']) expect(seccompFilterFor(user), String(user)).toBe(true);
  });

  it('does not for any other user: no_new_privs would take setuid helpers away from it', () => {
    for (const user of ['nobody', '1000', '1000:1000', 'app:root', 'rooty']) expect(seccompFilterFor(user), user).toBe(false);
  });
});

describe('parseLdd', () => {
  // captured from `ldd /usr/bin/strace` on Debian 12
  const output = `	linux-vdso.so.1 (0x00007f85bb7f1000)
	libunwind-ptrace.so.0 => /lib/x86_64-linux-gnu/libunwind-ptrace.so.0 (0x00007f85bb7da000)
	libunwind-x86_64.so.8 => /lib/x86_64-linux-gnu/libunwind-x86_64.so.8 (0x00007f85bb7bd000)
	libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f85bb21e000)
	liblzma.so.5 => /lib/x86_64-linux-gnu/liblzma.so.5 (0x00007f85bb78e000)
	libunwind.so.8 => /lib/x86_64-linux-gnu/libunwind.so.8 (0x00007f85bb772000)
	/lib64/ld-linux-x86-64.so.2 (0x00007f85bb7f3000)`;

  it('lists every library with its path and finds the loader, skipping the vdso', () => {
    const parsed = parseLdd(output);
    expect(parsed.loader).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(parsed.libraries.map((l) => l.name)).toEqual(['libunwind-ptrace.so.0', 'libunwind-x86_64.so.8', 'libc.so.6', 'liblzma.so.5', 'libunwind.so.8']);
    expect(parsed.libraries[2]!.path).toBe('/lib/x86_64-linux-gnu/libc.so.6');
  });
});
