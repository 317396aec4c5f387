import { type Command, InvalidArgumentError, Option } from 'commander';

function parseTop(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('compare two images: sizes (uncompressed and gzipped layers), layers, files, the directories that account for the difference, files only in one, config differences')
    .argument('<image-a>', 'first image, e.g. my-image')
    .argument('<image-b>', 'second image, e.g. my-image.slim')
    .option('--json', 'print the comparison as JSON', false)
    .addOption(new Option('--top <n>', 'how many directories and files to list').argParser(parseTop).default(10))
    .action(async (a: string, b: string, flags: { json: boolean; top: number }) => {
      // loaded here, not at start-up, like every command's pipeline
      const [{ compareImages }, { renderCompare }] = await Promise.all([import('../compare/compare.js'), import('../compare/render-compare.js')]);
      const report = await compareImages(a, b, { top: flags.top });
      process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${renderCompare(report)}\n`);
    });
}
