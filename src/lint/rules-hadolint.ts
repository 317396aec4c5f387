/**
 * Rules that hadolint has too, under hadolint's IDs and severities, so that users' ignore lists
 * and habits carry over. The shell inside RUN is read by a real parser, not by regexes.
 */
import type { InstructionModel } from './dockerfile-model.js';
import type { Rule, RuleContext } from './finding.js';
import { aptPackages, isApkAdd, isAptInstall, isAptUpdate, isPipInstall } from './package-commands.js';
import { hasOption, type SimpleCommand } from './shell-commands.js';

function runs(context: RuleContext, stages: 'all' | 'final' = 'all'): InstructionModel[] {
  const final = context.finalStage();
  return context.model.instructions.filter((i) => i.keyword === 'RUN' && (stages === 'all' || i.stage === final?.index));
}

function cacheMount(instruction: InstructionModel, target: RegExp): boolean {
  return instruction.flags.some((f) => f.name === 'mount' && /type=cache/.test(f.value ?? '') && target.test(f.value ?? ''));
}

function any(commands: SimpleCommand[], predicate: (c: SimpleCommand) => boolean): boolean {
  return commands.some(predicate);
}

const isLocalhost = (name: string) => name === 'scratch';

export const HADOLINT_RULES: Rule[] = [
  {
    id: 'DL3006',
    severity: 'warning',
    title: 'Always tag the version of an image explicitly',
    check: ({ model }) =>
      model.stages
        .filter((s) => !s.fromStage && !isLocalhost(s.imageName) && !s.imageTag && !s.imageDigest && !s.image.startsWith('$'))
        .map((s) => ({
          line: s.line,
          message: `FROM ${s.image} has no tag: the base changes under you and its size with it`,
          fix: `pin a version, preferably a slim one: FROM ${s.imageName}:<version>-slim (or a digest)`,
        })),
  },
  {
    id: 'DL3007',
    severity: 'warning',
    title: 'Using latest is prone to errors if the image will ever update. Pin the version explicitly',
    check: ({ model }) =>
      model.stages
        .filter((s) => !s.fromStage && s.imageTag === 'latest' && !s.imageDigest)
        .map((s) => ({ line: s.line, message: `FROM ${s.image} uses the moving "latest" tag`, fix: `pin a version: FROM ${s.imageName}:<version>` })),
  },
  {
    id: 'DL3008',
    severity: 'warning',
    title: 'Pin versions in apt-get install',
    check: (context) =>
      runs(context)
        .filter((i) => any(context.commands(i), (c) => isAptInstall(c) && aptPackages(c).some((p) => !p.includes('=') && !p.endsWith('.deb') && !p.startsWith('$'))))
        .map((i) => ({ line: i.line, message: 'apt-get install without pinned versions', fix: 'pin versions (`apt-get install -y curl=7.88.1-10+deb12u5`), or ignore DL3008 if you rebuild often' })),
  },
  {
    id: 'DL3009',
    severity: 'info',
    title: 'Delete the apt-get lists after installing something',
    check: (context) =>
      runs(context, 'final')
        .filter((i) => {
          const commands = context.commands(i);
          const installs = any(commands, (c) => isAptUpdate(c) || isAptInstall(c));
          const cleans = any(commands, (c) => c.name === 'rm' && c.args.some((a) => a.startsWith('/var/lib/apt/lists')));
          return installs && !cleans && !cacheMount(i, /\/var\/lib\/apt/);
        })
        .map((i) => ({
          line: i.line,
          message: 'apt lists are left in the layer (tens of MB that no container needs)',
          fix: 'end this RUN with `&& rm -rf /var/lib/apt/lists/*` (same RUN: a later one cannot shrink this layer)',
        })),
  },
  {
    id: 'DL3015',
    severity: 'info',
    title: 'Avoid additional packages by specifying --no-install-recommends',
    check: (context) =>
      runs(context)
        .filter((i) => any(context.commands(i), (c) => isAptInstall(c) && !hasOption(c, '--no-install-recommends') && !c.args.some((a) => /APT::Install-Recommends=(false|0)/i.test(a))))
        .map((i) => ({ line: i.line, message: 'apt-get install pulls in recommended packages too', fix: 'add `--no-install-recommends` to apt-get install' })),
  },
  {
    id: 'DL3019',
    severity: 'info',
    title: 'Use the --no-cache switch to avoid the need to use --update and remove /var/cache/apk/*',
    check: (context) =>
      runs(context)
        .filter((i) => any(context.commands(i), (c) => isApkAdd(c) && !hasOption(c, '--no-cache')) && !cacheMount(i, /\/var\/cache\/apk/))
        .map((i) => ({ line: i.line, message: 'apk add keeps its index cache in the layer', fix: 'use `apk add --no-cache` (and drop `apk update`)' })),
  },
  {
    id: 'DL3020',
    severity: 'error',
    title: 'Use COPY instead of ADD for files and folders',
    check: ({ model }) =>
      model.instructions
        .filter((i) => i.keyword === 'ADD' && i.args.length >= 2 && !i.args.slice(0, -1).some((src) => /^(https?|git):\/\/|^git@|\.(tar(\.\w+)?|tgz|tbz2?|txz)$/i.test(src)))
        .map((i) => ({ line: i.line, message: `ADD ${i.args.slice(0, -1).join(' ')}: a local file, for which ADD only adds surprises`, fix: 'use COPY for local files and directories' })),
  },
  {
    id: 'DL3042',
    severity: 'warning',
    title: 'Avoid use of cache directory with pip. Use `pip install --no-cache-dir <package>`',
    check: (context) => {
      const envOff = context.model.instructions.some((i) => (i.keyword === 'ENV' || i.keyword === 'ARG') && i.args.some((a) => /^PIP_NO_CACHE_DIR=(1|true|on|yes)$/i.test(a)));
      return runs(context)
        .filter((i) => !envOff && !cacheMount(i, /\.cache\/pip/) && any(context.commands(i), (c) => isPipInstall(c) && !hasOption(c, '--no-cache-dir') && c.env.PIP_NO_CACHE_DIR === undefined))
        .map((i) => ({ line: i.line, message: "pip install keeps its download cache in the layer", fix: 'use `pip install --no-cache-dir` (or ENV PIP_NO_CACHE_DIR=1)' }));
    },
  },
  {
    id: 'DL3059',
    severity: 'info',
    title: 'Multiple consecutive `RUN` instructions. Consider consolidation',
    check: ({ model }) => {
      const out: Array<{ line: number; message: string; fix: string }> = [];
      for (const stage of model.stages) {
        stage.instructions.forEach((i, index) => {
          const previous = stage.instructions[index - 1];
          const sameFlags = JSON.stringify(previous?.flags) === JSON.stringify(i.flags);
          if (i.keyword === 'RUN' && previous?.keyword === 'RUN' && sameFlags) {
            out.push({ line: i.line, message: `this RUN follows the RUN on line ${previous.line}: each one is a layer`, fix: 'join them with `&&` into one RUN, cleaning up at its end' });
          }
        });
      }
      return out;
    },
  },
];
