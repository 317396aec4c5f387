/**
 * slimify's own size rules (SL1xxx): the mistakes image-size guides warn about that hadolint
 * does not check.
 */
import { posix } from 'node:path';
import type { InstructionModel, StageModel } from './dockerfile-model.js';
import type { Rule, RuleContext } from './finding.js';
import { installedPackages, isAptInstall, isNpmInstall, isPipInstall, npmInstallsDevDependencies, TOOLCHAIN_PACKAGES } from './package-commands.js';
import { operands } from './shell-commands.js';

/** Full images with a smaller variant of the same thing; the value is what to use instead. */
const SLIM_VARIANTS: Record<string, string> = {
  ubuntu: 'debian:<version>-slim, or distroless/scratch in a multi-stage build',
  debian: 'debian:<version>-slim',
  centos: 'a ubi-minimal or distroless image',
  fedora: 'a ubi-minimal or distroless image',
  node: 'node:<version>-slim or node:<version>-alpine, or gcr.io/distroless/nodejs',
  python: 'python:<version>-slim or python:<version>-alpine',
  ruby: 'ruby:<version>-slim or ruby:<version>-alpine',
  php: 'php:<version>-fpm-alpine or php:<version>-cli-alpine',
  golang: 'a build stage FROM golang, and FROM scratch or gcr.io/distroless/static for the final stage',
  rust: 'a build stage FROM rust, and FROM debian:<version>-slim, distroless or scratch for the final stage',
  openjdk: 'eclipse-temurin:<version>-jre (a JRE, not a JDK), or distroless/java',
  'eclipse-temurin': 'eclipse-temurin:<version>-jre',
  maven: 'a build stage FROM maven and eclipse-temurin:<version>-jre for the final stage',
  gradle: 'a build stage FROM gradle and eclipse-temurin:<version>-jre for the final stage',
  'mcr.microsoft.com/dotnet/sdk': 'mcr.microsoft.com/dotnet/aspnet or runtime (or -alpine / chiseled)',
};
const TOOLCHAIN_IMAGES = new Set(['golang', 'rust', 'maven', 'gradle', 'openjdk', 'gcc', 'mcr.microsoft.com/dotnet/sdk']);
const SLIM_TAG = /slim|alpine|distroless|minimal|micro|busybox|jre|runtime|chiseled/i;
const BUILD_COMMANDS = /^(go build|cargo build|mvn (package|install|verify)|gradle (build|assemble)|npm run build|yarn build|make|gcc|g\+\+|cc|dotnet publish|dotnet build|tsc)\b/;

function shortName(stage: StageModel): string {
  return stage.imageName.replace(/^docker\.io\//, '').replace(/^library\//, '');
}

function copiesWholeContext(i: InstructionModel): boolean {
  if ((i.keyword !== 'COPY' && i.keyword !== 'ADD') || i.flags.some((f) => f.name === 'from')) return false;
  return i.args.slice(0, -1).some((src) => src === '.' || src === './' || src === '*' || src === './*');
}

function stageOf(context: RuleContext, index: number): StageModel | undefined {
  return context.model.stages[index];
}

/** Paths an instruction writes, for the "removed in a later layer" rule. */
function writtenPaths(context: RuleContext, i: InstructionModel, workdir: string): string[] {
  if ((i.keyword === 'COPY' || i.keyword === 'ADD') && i.args.length >= 2) {
    const dest = i.args[i.args.length - 1]!;
    const base = posix.resolve(workdir, dest);
    if (dest.endsWith('/') || i.args.length > 2) return i.args.slice(0, -1).map((src) => posix.join(base, posix.basename(src)));
    return [base];
  }
  if (i.keyword !== 'RUN') return [];
  const out: string[] = [];
  for (const c of context.commands(i)) {
    if (isAptInstall(c) || (c.name === 'apt-get' && operands(c)[0] === 'update')) out.push('/var/lib/apt/lists', '/var/cache/apt');
    if (isPipInstall(c)) out.push('/root/.cache/pip', '/root/.cache');
    if (isNpmInstall(c)) out.push('/root/.npm', posix.join(workdir, 'node_modules'));
    if ((c.name === 'wget' || c.name === 'curl') && c.args.includes('-o')) out.push(posix.resolve(workdir, c.args[c.args.indexOf('-o') + 1] ?? ''));
    if (c.name === 'wget' && c.args.includes('-O')) out.push(posix.resolve(workdir, c.args[c.args.indexOf('-O') + 1] ?? ''));
    if (c.name === 'git' && operands(c)[0] === 'clone') {
      const ops = operands(c);
      out.push(posix.resolve(workdir, ops[2] ?? posix.basename(ops[1] ?? '', '.git')));
    }
  }
  return out;
}

const within = (path: string, root: string) => path === root || path.startsWith(`${root}/`) || root.startsWith(`${path}/`);

export const SLIMIFY_RULES: Rule[] = [
  {
    id: 'SL1001',
    severity: 'warning',
    title: 'The final stage is based on a full OS or language image where a slim variant exists',
    check: (context) => {
      const final = context.finalStage();
      if (!final || final.fromStage) return [];
      const name = shortName(final);
      const instead = SLIM_VARIANTS[name];
      if (!instead || SLIM_TAG.test(final.imageTag ?? '')) return [];
      return [{ line: final.line, message: `the final image is based on the full ${final.image} image`, fix: `use ${instead}` }];
    },
  },
  {
    id: 'SL1002',
    severity: 'warning',
    title: 'No multi-stage build while the final stage holds a compiler toolchain or build step',
    check: (context) => {
      if (context.model.stages.length !== 1) return [];
      const stage = context.model.stages[0]!;
      const reasons: Array<{ line: number; what: string }> = [];
      if (TOOLCHAIN_IMAGES.has(shortName(stage))) reasons.push({ line: stage.line, what: `the ${stage.imageName} image is a toolchain` });
      for (const i of stage.instructions.filter((x) => x.keyword === 'RUN')) {
        const commands = context.commands(i);
        const tools = commands.flatMap(installedPackages).filter((p) => TOOLCHAIN_PACKAGES.has(p));
        if (tools.length) reasons.push({ line: i.line, what: `it installs ${[...new Set(tools)].join(', ')}` });
        const build = commands.find((c) => BUILD_COMMANDS.test([c.name, ...c.args].join(' ')));
        if (build) reasons.push({ line: i.line, what: `it builds here (${[build.name, ...build.args].join(' ').slice(0, 40)})` });
      }
      const first = reasons[0];
      if (!first) return [];
      return [{
        line: first.line,
        message: `single-stage build whose final image keeps its toolchain: ${reasons.map((r) => `${r.what} (line ${r.line})`).join('; ')}`,
        fix: 'build in a first stage (FROM ... AS build) and COPY --from=build only the output into a slim final stage',
      }];
    },
  },
  {
    id: 'SL1003',
    severity: 'warning',
    title: 'The whole build context is copied but there is no .dockerignore',
    check: (context) => {
      const copy = context.model.instructions.find(copiesWholeContext);
      if (!copy || context.build.dockerignore !== undefined) return [];
      return [{ line: copy.line, message: 'the whole build context is copied and there is no .dockerignore: .git, node_modules, build output and secrets end up in the image', fix: 'add a .dockerignore next to the Dockerfile (at least .git, node_modules, build output, .env)' }];
    },
  },
  {
    id: 'SL1004',
    severity: 'warning',
    title: 'The whole build context is copied but .dockerignore is empty',
    check: (context) => {
      const copy = context.model.instructions.find(copiesWholeContext);
      const ignore = context.build.dockerignore;
      if (!copy || ignore === undefined || ignore.split(/\r?\n/).some((l) => l.trim() && !l.trim().startsWith('#'))) return [];
      return [{ line: copy.line, message: '.dockerignore is empty while the whole build context is copied', fix: 'list .git, node_modules, build output and local secrets in .dockerignore' }];
    },
  },
  {
    id: 'SL1005',
    severity: 'warning',
    title: '.dockerignore misses .git or node_modules while the whole context is copied',
    check: (context) => {
      const copy = context.model.instructions.find(copiesWholeContext);
      const ignore = context.build.dockerignore;
      if (!copy || ignore === undefined) return [];
      const patterns = ignore.split(/\r?\n/).map((l) => l.trim().replace(/^\.?\//, '').replace(/\/$/, '')).filter((l) => l && !l.startsWith('#'));
      if (patterns.length === 0) return [];
      const excludes = (name: string) => patterns.some((p) => p === name || p === `**/${name}` || p === '*' || p === '**');
      const entries = context.build.contextEntries;
      const usesNode = context.model.instructions.some((i) => i.keyword === 'RUN' && context.commands(i).some((c) => ['npm', 'yarn', 'pnpm'].includes(c.name)));
      const missing = ['.git', 'node_modules'].filter((name) => !excludes(name) && (entries ? entries.includes(name) || (name === 'node_modules' && usesNode) : name === '.git' || usesNode));
      if (!missing.length) return [];
      return [{ line: copy.line, message: `.dockerignore does not exclude ${missing.join(' or ')}, yet the whole context is copied`, fix: `add ${missing.join(' and ')} to .dockerignore` }];
    },
  },
  {
    id: 'SL1006',
    severity: 'info',
    title: 'COPY . . copies the whole build context',
    check: ({ model }) =>
      model.instructions.filter(copiesWholeContext).map((i) => ({
        line: i.line,
        message: `${i.keyword} ${i.args.join(' ')} copies everything in the context, so every change busts the cache and stray files ship`,
        fix: 'copy only what the build needs (package manifests first, then the source directories)',
      })),
  },
  {
    id: 'SL1007',
    severity: 'warning',
    title: 'npm installs dev dependencies into the final stage',
    check: (context) => {
      const final = context.finalStage();
      if (!final) return [];
      const prodEnv = final.instructions.some((i) => i.keyword === 'ENV' && i.args.some((a) => /^NODE_ENV=["']?production/.test(a)));
      return final.instructions
        .filter((i) => i.keyword === 'RUN' && !prodEnv && context.commands(i).some((c) => isNpmInstall(c) && npmInstallsDevDependencies(c) && c.env.NODE_ENV !== 'production'))
        .map((i) => ({ line: i.line, message: 'npm installs dev dependencies into the final image', fix: 'use `npm ci --omit=dev` in the final stage (build with dev dependencies in an earlier stage)' }));
    },
  },
  {
    id: 'SL1008',
    severity: 'info',
    title: 'npm cache left in the final stage',
    check: (context) => {
      const final = context.finalStage();
      if (!final) return [];
      return final.instructions
        .filter((i) => {
          if (i.keyword !== 'RUN' || i.flags.some((f) => f.name === 'mount' && /\.npm/.test(f.value ?? ''))) return false;
          const commands = context.commands(i);
          return commands.some(isNpmInstall) && !commands.some((c) => c.name === 'npm' && operands(c)[0] === 'cache' && operands(c)[1] === 'clean');
        })
        .map((i) => ({ line: i.line, message: 'npm leaves its cache (~/.npm/_cacache) in this layer', fix: 'end the RUN with `&& npm cache clean --force`, or use RUN --mount=type=cache,target=/root/.npm' }));
    },
  },
  {
    id: 'SL1009',
    severity: 'warning',
    title: 'Files are removed in a later layer than the one that added them',
    check: (context) => {
      const out: Array<{ line: number; message: string; fix: string }> = [];
      for (const stage of context.model.stages) {
        let workdir = '/';
        const written: Array<{ path: string; line: number }> = [];
        for (const i of stage.instructions) {
          if (i.keyword === 'WORKDIR' && i.args[0]) workdir = posix.resolve(workdir, i.args[0]);
          if (i.keyword === 'RUN') {
            for (const c of context.commands(i)) {
              const removes = c.name === 'rm' ? operands(c).map((p) => posix.resolve(workdir, p.replace(/\/?\*$/, ''))) : [];
              if (c.name === 'apt-get' && operands(c)[0] === 'clean') removes.push('/var/cache/apt');
              if (c.name === 'npm' && operands(c)[0] === 'cache') removes.push('/root/.npm');
              for (const path of removes) {
                const origin = written.find((w) => w.line !== i.line && within(path, w.path));
                if (origin && stageOf(context, i.stage) === stage) {
                  out.push({ line: i.line, message: `removes ${path}, which line ${origin.line} added in an earlier layer: the bytes stay in the image`, fix: `remove it in the same RUN that creates it (line ${origin.line}), or build it in another stage` });
                  break;
                }
              }
            }
          }
          for (const path of writtenPaths(context, i, workdir)) written.push({ path, line: i.line });
        }
      }
      return out;
    },
  },
];
