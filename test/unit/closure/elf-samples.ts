import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Real ELF files compiled with the host's gcc into a temporary directory. */
export interface ElfSamples {
  dir: string;
  /** Dynamically linked PIE executable needing only libc. */
  hello: string;
  /** Shared library with soname libgreet.so.1. */
  libgreet: string;
  /** Needs libgreet.so.1, DT_RPATH $ORIGIN/../lib. */
  appRpath: string;
  /** Needs libgreet.so.1, DT_RUNPATH $ORIGIN/../lib. */
  appRunpath: string;
  /** Statically linked executable. */
  staticExe: string;
  /** 32-bit shared library (undefined when `gcc -m32` cannot link here). */
  lib32?: string;
  cleanup(): void;
}

export function compileSamples(): ElfSamples {
  const dir = mkdtempSync(join(tmpdir(), 'slimify-elf-'));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'lib'));
  const src = (name: string, code: string) => {
    const path = join(dir, name);
    writeFileSync(path, code);
    return path;
  };
  const gcc = (...args: string[]) => execFileSync('gcc', args, { cwd: dir, stdio: 'pipe' });
  const main = src('main.c', 'int main(void) { return 0; }\n');
  const greet = src('greet.c', 'int greet(void) { return 42; }\n');
  const app = src('app.c', 'int greet(void);\nint main(void) { return greet() == 42 ? 0 : 1; }\n');

  gcc('-o', 'bin/hello', main);
  gcc('-shared', '-fPIC', '-Wl,-soname,libgreet.so.1', '-o', 'lib/libgreet.so.1', greet);
  gcc('-o', 'bin/app-rpath', app, '-Llib', '-l:libgreet.so.1', '-Wl,--disable-new-dtags', '-Wl,-rpath,$ORIGIN/../lib');
  gcc('-o', 'bin/app-runpath', app, '-Llib', '-l:libgreet.so.1', '-Wl,--enable-new-dtags', '-Wl,-rpath,$ORIGIN/../lib');
  gcc('-static', '-o', 'bin/static', main);
  let lib32: string | undefined;
  try {
    gcc('-m32', '-nostdlib', '-shared', '-fPIC', '-Wl,-soname,libf32.so.1', '-o', 'lib/libf32.so', greet);
    lib32 = join(dir, 'lib/libf32.so');
  } catch {
    lib32 = undefined;
  }
  return {
    dir,
    hello: join(dir, 'bin/hello'),
    libgreet: join(dir, 'lib/libgreet.so.1'),
    appRpath: join(dir, 'bin/app-rpath'),
    appRunpath: join(dir, 'bin/app-runpath'),
    staticExe: join(dir, 'bin/static'),
    lib32,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
