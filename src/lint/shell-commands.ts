/**
 * The simple commands of a RUN script, found by a real shell parser (unbash): through `&&`,
 * `;`, pipes, subshells, conditionals, loops, command substitutions and `sh -c '...'`.
 */
import { forEachChild, parse, type Command, type SyntaxNode } from 'unbash';

export interface SimpleCommand {
  name: string;
  args: string[];
  /** Environment assignments in front of the command (`DEBIAN_FRONTEND=noninteractive apt-get`). */
  env: Record<string, string>;
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', '/bin/sh', '/bin/bash', '/bin/ash', '/bin/dash']);
const WRAPPERS = new Set(['sudo', 'env', 'nice', 'time', 'exec', 'command', 'xargs']);

function collect(node: SyntaxNode, into: SimpleCommand[], depth: number): void {
  if (node.type === 'Command') {
    const command = node as Command;
    if (command.name) {
      const env: Record<string, string> = {};
      for (const prefix of command.prefix) {
        if (prefix.type === 'Assignment' && prefix.value.type === 'Word') env[prefix.name] = prefix.value.value;
      }
      let words = [command.name.value, ...command.args.map((a) => (a.type === 'Word' ? a.value : a.text))];
      while (words.length > 1 && WRAPPERS.has(words[0]!)) words = words.slice(1).filter((w, i) => i > 0 || !w.startsWith('-'));
      into.push({ name: words[0]!, args: words.slice(1), env });
      const flag = words.indexOf('-c');
      if (SHELLS.has(words[0]!) && flag > 0 && words[flag + 1] !== undefined && depth < 4) {
        into.push(...shellCommands(words[flag + 1]!, depth + 1));
      }
    }
  }
  forEachChild(node, (child) => collect(child, into, depth));
}

/** Every simple command of `script`, in source order; unparsable scripts give what could be read. */
export function shellCommands(script: string, depth = 0): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  collect(parse(script), commands, depth);
  return commands;
}

/** The arguments that are not options, skipping the values of options that take one. */
export function operands(command: SimpleCommand, optionsWithValue: string[] = []): string[] {
  const out: string[] = [];
  for (let i = 0; i < command.args.length; i++) {
    const arg = command.args[i]!;
    if (arg === '--') {
      out.push(...command.args.slice(i + 1));
      break;
    }
    if (arg.startsWith('-')) {
      if (optionsWithValue.includes(arg)) i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

export function hasOption(command: SimpleCommand, ...names: string[]): boolean {
  return command.args.some((arg) => names.some((name) => arg === name || arg.startsWith(`${name}=`) || (/^-[a-zA-Z]+$/.test(arg) && name.length === 2 && name.startsWith('-') && arg.includes(name[1]!))));
}
