/**
 * HTTP probe files. docker-slim's format is accepted as it is:
 *   {"commands":[{"method","resource","port","protocol","headers":["K: V"],"body","body_file","username","password"}]}
 * plus slimify's own fields per command: "expect_status" (a number, "2xx", "200-299" or a list),
 * "expect_body_contains", "expect_body_regex", "status_only", "timeout" (seconds), "retries",
 * "name". The JSON Schema is probes/http-probe-file.schema.json.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { SlimifyError } from '../errors.js';
import { DEFAULT_STATUS, type HttpProbe, type StatusRange } from './probe.js';

interface ProbeCommand {
  name?: string;
  method?: string;
  resource?: string;
  port?: number | string;
  protocol?: string;
  headers?: string[] | Record<string, string>;
  body?: string;
  body_file?: string;
  username?: string;
  password?: string;
  expect_status?: number | string | Array<number | string>;
  expect_body_contains?: string;
  expect_body_regex?: string;
  status_only?: boolean;
  timeout?: number;
  retries?: number;
}

function bad(file: string, message: string): SlimifyError {
  return new SlimifyError(`probe file ${file}: ${message}`, { code: 'usage', stage: 'probe' });
}

export function parseStatus(value: number | string, where: string): StatusRange {
  const text = String(value).trim();
  let match = /^([1-5])xx$/i.exec(text);
  if (match) return { min: Number(match[1]) * 100, max: Number(match[1]) * 100 + 99 };
  match = /^(\d{3})-(\d{3})$/.exec(text);
  if (match && Number(match[1]) <= Number(match[2])) return { min: Number(match[1]), max: Number(match[2]) };
  match = /^(\d{3})$/.exec(text);
  if (match) return { min: Number(match[1]), max: Number(match[1]) };
  throw new SlimifyError(`${where}: expected status "${text}" is not a status, a range like 200-299, or a class like 2xx`, { code: 'usage', stage: 'probe' });
}

function headerMap(headers: ProbeCommand['headers'], file: string): Record<string, string> {
  if (!headers) return {};
  if (!Array.isArray(headers)) return { ...headers };
  const map: Record<string, string> = {};
  for (const line of headers) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw bad(file, `header "${line}" is not "Name: value"`);
    map[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
  return map;
}

export async function readProbeFile(file: string, defaultPort: number | undefined, timeoutMs: number): Promise<HttpProbe[]> {
  let document: { commands?: ProbeCommand[] };
  try {
    document = JSON.parse(await readFile(file, 'utf8')) as { commands?: ProbeCommand[] };
  } catch (error) {
    throw new SlimifyError(`cannot read probe file ${file}: ${(error as Error).message}`, { code: 'usage', stage: 'probe', cause: error });
  }
  if (!document || !Array.isArray(document.commands)) throw bad(file, 'expected {"commands": [...]}');
  const probes: HttpProbe[] = [];
  for (const [i, command] of document.commands.entries()) {
    const where = `probe file ${file}, command ${i + 1}`;
    if (typeof command !== 'object' || command === null) throw bad(file, `command ${i + 1} is not an object`);
    const protocol = (command.protocol ?? 'http').toLowerCase();
    if (protocol !== 'http') throw bad(file, `command ${i + 1}: protocol "${protocol}" is not supported (only http; use a --probe-script for others)`);
    const port = command.port === undefined ? defaultPort : Number(command.port);
    if (port === undefined || !Number.isInteger(port) || port <= 0 || port > 65535) {
      throw bad(file, `command ${i + 1} has no valid port and the image exposes none`);
    }
    const method = (command.method ?? 'GET').toUpperCase();
    const resource = command.resource ?? '/';
    if (!resource.startsWith('/')) throw bad(file, `command ${i + 1}: resource "${resource}" must start with /`);
    const headers = headerMap(command.headers, file);
    if (command.username !== undefined) headers.Authorization = `Basic ${Buffer.from(`${command.username}:${command.password ?? ''}`).toString('base64')}`;
    let body: Buffer | undefined;
    if (command.body_file !== undefined) {
      const path = resolve(dirname(file), command.body_file);
      body = await readFile(path).catch((cause: unknown) => {
        throw new SlimifyError(`${where}: cannot read body_file ${path}`, { code: 'usage', stage: 'probe', cause });
      });
    } else if (command.body !== undefined) {
      body = Buffer.from(command.body);
    }
    const expected = command.expect_status === undefined ? DEFAULT_STATUS : (Array.isArray(command.expect_status) ? command.expect_status : [command.expect_status]).map((s) => parseStatus(s, where));
    probes.push({
      kind: 'http',
      name: command.name ?? `${method} ${resource} on port ${port}`,
      port,
      method,
      path: resource,
      headers,
      body,
      expect: { status: expected, bodyContains: command.expect_body_contains, bodyRegex: command.expect_body_regex },
      statusOnly: command.status_only ?? false,
      timeoutMs: command.timeout !== undefined ? command.timeout * 1000 : timeoutMs,
      retries: command.retries ?? 0,
      isDefault: false,
    });
  }
  return probes;
}
