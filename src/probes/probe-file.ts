/**
 * HTTP probe files. docker-slim's `--http-probe-cmd-file` format is accepted as it is:
 *   {"commands":[{"method","resource","port","protocol","headers":["Name: value"],"body","body_file","username","password","crawl"}]}
 * plus slimify's own fields per command: "expect_status" (a number, "2xx", "200-299" or a list),
 * "expect_body_contains", "expect_body_regex", "status_only", "timeout" (seconds), "retries",
 * "name". The JSON Schema is probes/http-probe-file.schema.json; docs/probes.md explains it.
 *
 * Everything is checked before any container starts, and every error names the file, the
 * command and the field, since a typo found after a two-minute trace is a wasted run.
 */
import { access, readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { SlimifyError } from '../errors.js';
import { DEFAULT_STATUS, type HttpProbe, type StatusRange } from './probe.js';

const DOCKER_SLIM_FIELDS = ['method', 'resource', 'port', 'protocol', 'headers', 'body', 'body_file', 'username', 'password', 'crawl'];
const SLIMIFY_FIELDS = ['name', 'expect_status', 'expect_body_contains', 'expect_body_regex', 'status_only', 'timeout', 'retries'];
/** docker-slim's README example spells "protocol" this way; files copied from it carry the typo. */
const PROTOCOL_TYPO = 'procotol';
const KNOWN_FIELDS = new Set([...DOCKER_SLIM_FIELDS, ...SLIMIFY_FIELDS, PROTOCOL_TYPO]);
const DOCKER_SLIM_ONLY_PROTOCOLS = new Set(['http2', 'http2c', 'ws', 'wss']);

export interface ProbeFileContext {
  /** container ports the image exposes (TCP), e.g. [8000] */
  exposedPorts: number[];
  /** per-probe deadline when the command sets no "timeout" */
  timeoutMs: number;
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
  if (match && Number(text) >= 100 && Number(text) <= 599) return { min: Number(text), max: Number(text) };
  throw new SlimifyError(`${where}: expected status "${text}" is not a status (100-599), a range like 200-299, or a class like 2xx`, { code: 'usage', stage: 'probe' });
}

/** docker-slim's headers are "Name: value" strings, split at the first colon; an object is accepted too. */
export function parseHeaders(headers: unknown, where: string): Record<string, string> {
  if (headers === undefined) return {};
  const map: Record<string, string> = {};
  if (Array.isArray(headers)) {
    for (const line of headers) {
      if (typeof line !== 'string') throw new SlimifyError(`${where}: "headers" must be strings like "Content-Type: application/json"`, { code: 'usage', stage: 'probe' });
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim();
      if (colon <= 0 || name === '') throw new SlimifyError(`${where}: header "${line}" is not "Name: value"`, { code: 'usage', stage: 'probe' });
      const value = line.slice(colon + 1).trim();
      // repeated names are sent once, values joined as HTTP allows
      const existing = Object.keys(map).find((k) => k.toLowerCase() === name.toLowerCase());
      if (existing) map[existing] = `${map[existing]}, ${value}`;
      else map[name] = value;
    }
    return map;
  }
  if (typeof headers === 'object' && headers !== null) {
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value !== 'string') throw new SlimifyError(`${where}: header "${name}" must have a string value`, { code: 'usage', stage: 'probe' });
      map[name] = value;
    }
    return map;
  }
  throw new SlimifyError(`${where}: "headers" must be a list of "Name: value" strings`, { code: 'usage', stage: 'probe' });
}

function closest(field: string): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0]!;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j]!;
        row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length]!;
  };
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of [...DOCKER_SLIM_FIELDS, ...SLIMIFY_FIELDS]) {
    const d = distance(field.toLowerCase(), known);
    if (d < bestDistance) [best, bestDistance] = [known, d];
  }
  return best;
}

function optional<T>(command: Record<string, unknown>, field: string, type: 'string' | 'boolean' | 'number', where: string): T | undefined {
  const value = command[field];
  if (value === undefined) return undefined;
  if (typeof value !== type) throw new SlimifyError(`${where}: "${field}" must be a ${type}, not ${JSON.stringify(value)}`, { code: 'usage', stage: 'probe' });
  return value as T;
}

/** body_file is looked up next to the probe file; docker-slim opened it from the working directory, so that is the fallback. */
async function bodyFilePath(file: string, bodyFile: string): Promise<string> {
  if (isAbsolute(bodyFile)) return bodyFile;
  const besideProbeFile = resolve(dirname(file), bodyFile);
  const exists = (path: string) => access(path).then(() => true, () => false);
  if (await exists(besideProbeFile)) return besideProbeFile;
  const fromCwd = resolve(bodyFile);
  return (await exists(fromCwd)) ? fromCwd : besideProbeFile;
}

/**
 * Turns the parsed JSON of a probe file into probes. `file` is only used in messages and to
 * find body files. Throws a usage error naming the command and field for anything it cannot use.
 */
export async function probesFromDocument(document: unknown, file: string, context: ProbeFileContext): Promise<HttpProbe[]> {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw bad(file, 'expected an object like {"commands": [...]}');
  for (const key of Object.keys(document)) {
    if (key !== 'commands' && key !== '$schema') throw bad(file, `unknown top-level field "${key}" (expected "commands")`);
  }
  const commands = (document as { commands?: unknown }).commands;
  if (!Array.isArray(commands)) throw bad(file, 'expected {"commands": [...]} with a list of commands');
  if (commands.length === 0) throw bad(file, '"commands" is empty: give at least one probe, or drop the file');
  const probes: HttpProbe[] = [];
  for (const [i, raw] of commands.entries()) {
    const where = `probe file ${file}, command ${i + 1}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(file, `command ${i + 1} is not an object`);
    const command = raw as Record<string, unknown>;
    for (const field of Object.keys(command)) {
      if (KNOWN_FIELDS.has(field)) continue;
      const guess = closest(field);
      throw new SlimifyError(`${where}: unknown field "${field}"${guess ? ` (did you mean "${guess}"?)` : ''}; see probes/http-probe-file.schema.json`, { code: 'usage', stage: 'probe' });
    }

    const protocolField = command.protocol !== undefined ? 'protocol' : PROTOCOL_TYPO;
    const protocol = (optional<string>(command, protocolField, 'string', where) ?? 'http').toLowerCase();
    if (DOCKER_SLIM_ONLY_PROTOCOLS.has(protocol)) throw new SlimifyError(`${where}: protocol "${protocol}" is not supported (http and https are); use a --probe-script to speak ${protocol}`, { code: 'usage', stage: 'probe' });
    if (protocol !== 'http' && protocol !== 'https') throw new SlimifyError(`${where}: protocol "${protocol}" is not one of http, https`, { code: 'usage', stage: 'probe' });

    let port: number;
    if (command.port === undefined) {
      const first = context.exposedPorts[0];
      if (first === undefined) throw new SlimifyError(`${where}: no "port" given and the image exposes no TCP port`, { code: 'usage', stage: 'probe' });
      port = first;
    } else {
      port = typeof command.port === 'string' && /^\d+$/.test(command.port.trim()) ? Number(command.port) : (command.port as number);
      if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65535) throw new SlimifyError(`${where}: "port" ${JSON.stringify(command.port)} is not a port number`, { code: 'usage', stage: 'probe' });
      if (!context.exposedPorts.includes(port)) {
        const exposed = context.exposedPorts.length ? `it exposes ${context.exposedPorts.join(', ')}` : 'it exposes none';
        throw new SlimifyError(`${where}: port ${port} is not exposed by the image (${exposed}); probes reach the app only through exposed ports`, { code: 'usage', stage: 'probe' });
      }
    }

    const method = (optional<string>(command, 'method', 'string', where) || 'GET').toUpperCase();
    if (!/^[A-Z]+$/.test(method)) throw new SlimifyError(`${where}: "method" ${JSON.stringify(command.method)} is not an HTTP method`, { code: 'usage', stage: 'probe' });
    const resource = optional<string>(command, 'resource', 'string', where) || '/';
    if (!resource.startsWith('/')) throw new SlimifyError(`${where}: "resource" "${resource}" must start with / (a path and query string, like /api/info?x=1)`, { code: 'usage', stage: 'probe' });

    const headers = parseHeaders(command.headers, where);
    const username = optional<string>(command, 'username', 'string', where) ?? '';
    const password = optional<string>(command, 'password', 'string', where) ?? '';
    // as docker-slim: basic auth when either is set
    if (username !== '' || password !== '') headers.Authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

    const bodyText = optional<string>(command, 'body', 'string', where);
    const bodyFile = optional<string>(command, 'body_file', 'string', where);
    if (bodyText !== undefined && bodyFile !== undefined) throw new SlimifyError(`${where}: give "body" or "body_file", not both`, { code: 'usage', stage: 'probe' });
    let body: Buffer | undefined;
    if (bodyFile !== undefined) {
      const path = await bodyFilePath(file, bodyFile);
      body = await readFile(path).catch((cause: unknown) => {
        throw new SlimifyError(`${where}: cannot read body_file ${path} (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}); body_file is relative to the probe file`, { code: 'usage', stage: 'probe', cause });
      });
    } else if (bodyText !== undefined) {
      body = Buffer.from(bodyText);
    }

    const crawl = optional<boolean>(command, 'crawl', 'boolean', where) ?? false;

    const expectStatus = command.expect_status;
    let status: StatusRange[] = DEFAULT_STATUS;
    if (expectStatus !== undefined) {
      const list = Array.isArray(expectStatus) ? expectStatus : [expectStatus];
      if (list.length === 0 || list.some((s) => typeof s !== 'number' && typeof s !== 'string')) {
        throw new SlimifyError(`${where}: "expect_status" must be a status, a range like "200-299", a class like "2xx", or a list of them`, { code: 'usage', stage: 'probe' });
      }
      status = list.map((s) => parseStatus(s as number | string, where));
    }
    const bodyContains = optional<string>(command, 'expect_body_contains', 'string', where);
    const bodyRegex = optional<string>(command, 'expect_body_regex', 'string', where);
    if (bodyRegex !== undefined) {
      try {
        new RegExp(bodyRegex);
      } catch (error) {
        throw new SlimifyError(`${where}: "expect_body_regex" is not a valid regular expression: ${(error as Error).message}`, { code: 'usage', stage: 'probe' });
      }
    }
    const timeout = optional<number>(command, 'timeout', 'number', where);
    if (timeout !== undefined && !(timeout > 0)) throw new SlimifyError(`${where}: "timeout" must be a positive number of seconds`, { code: 'usage', stage: 'probe' });
    const retries = optional<number>(command, 'retries', 'number', where);
    if (retries !== undefined && (!Number.isInteger(retries) || retries < 0 || retries > 100)) throw new SlimifyError(`${where}: "retries" must be a whole number from 0 to 100`, { code: 'usage', stage: 'probe' });
    const name = optional<string>(command, 'name', 'string', where);

    probes.push({
      kind: 'http',
      name: name ?? `${method} ${resource} on port ${port}`,
      port,
      protocol: protocol as 'http' | 'https',
      method,
      path: resource,
      headers,
      body,
      expect: { status, bodyContains, bodyRegex },
      statusOnly: optional<boolean>(command, 'status_only', 'boolean', where) ?? false,
      timeoutMs: timeout !== undefined ? timeout * 1000 : context.timeoutMs,
      retries: retries ?? 0,
      isDefault: false,
      crawl,
    });
  }
  return probes;
}

export async function readProbeFile(file: string, context: ProbeFileContext): Promise<HttpProbe[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new SlimifyError(`cannot read probe file ${file}: ${reason}`, { code: 'usage', stage: 'probe', cause: error });
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw bad(file, `not valid JSON: ${(error as Error).message}`);
  }
  return probesFromDocument(document, file, context);
}
