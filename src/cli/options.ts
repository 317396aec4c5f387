/**
 * Option parsers shared by the commands: each names the option and the values it allows.
 */
import { InvalidArgumentError } from 'commander';

export function parseBoolean(value: string): boolean {
  if (/^(true|yes|on|1)$/i.test(value)) return true;
  if (/^(false|no|off|0)$/i.test(value)) return false;
  throw new InvalidArgumentError('expected true or false');
}

export function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) throw new InvalidArgumentError('expected a number of seconds (0 or more)');
  return seconds;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
