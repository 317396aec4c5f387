/** Recognises package-manager invocations in parsed shell commands. */
import { hasOption, operands, type SimpleCommand } from './shell-commands.js';

const APT = new Set(['apt-get', 'apt']);

export function aptSubcommand(command: SimpleCommand): string | undefined {
  if (!APT.has(command.name)) return undefined;
  return operands(command, ['-o', '-c', '-t', '--option', '--config-file', '--target-release'])[0];
}

export function aptPackages(command: SimpleCommand): string[] {
  return operands(command, ['-o', '-c', '-t', '--option', '--config-file', '--target-release']).slice(1);
}

export const isAptInstall = (c: SimpleCommand) => aptSubcommand(c) === 'install';
export const isAptUpdate = (c: SimpleCommand) => aptSubcommand(c) === 'update';

export function isApkAdd(c: SimpleCommand): boolean {
  return c.name === 'apk' && operands(c, ['-X', '--repository', '-p', '--root', '-t', '--virtual'])[0] === 'add';
}

export function isPipInstall(c: SimpleCommand): boolean {
  if (/^pip[0-9.]*$/.test(c.name)) return operands(c)[0] === 'install';
  if (/^python[0-9.]*$/.test(c.name)) {
    const m = c.args.indexOf('-m');
    return m >= 0 && /^pip[0-9.]*$/.test(c.args[m + 1] ?? '') && c.args.slice(m + 2).find((a) => !a.startsWith('-')) === 'install';
  }
  return false;
}

export function isNpmInstall(c: SimpleCommand): boolean {
  const sub = c.name === 'npm' ? operands(c)[0] : undefined;
  return sub === 'install' || sub === 'i' || sub === 'ci' || sub === 'add';
}

export function npmInstallsDevDependencies(c: SimpleCommand): boolean {
  if (hasOption(c, '--production', '--only', '--omit')) {
    return !c.args.some((a) => a === '--production' || a === '--only=prod' || a === '--only=production' || a === '--omit=dev');
  }
  // `npm install some-package` adds named packages, which is about dependencies, not dev ones
  return operands(c).length === 1;
}

/** Compilers and build tools: their presence in the final image says a build stage is missing. */
export const TOOLCHAIN_PACKAGES = new Set([
  'build-essential', 'gcc', 'g++', 'clang', 'make', 'cmake', 'autoconf', 'automake', 'libtool', 'pkg-config', 'build-base',
  'golang', 'golang-go', 'rustc', 'cargo', 'maven', 'gradle', 'default-jdk', 'openjdk-17-jdk', 'openjdk-11-jdk', 'python3-dev', 'musl-dev', 'linux-headers',
]);

export function installedPackages(c: SimpleCommand): string[] {
  if (isAptInstall(c)) return aptPackages(c).map((p) => p.split('=')[0]!);
  if (isApkAdd(c)) return operands(c, ['-X', '--repository', '-p', '--root', '-t', '--virtual']).slice(1).map((p) => p.split(/[=<>~]/)[0]!);
  return [];
}
