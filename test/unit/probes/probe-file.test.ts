// Probe files: docker-slim's format as its README documents it, slimify's own fields, and errors
// that name the file, the command and the problem. The examples in probes/ must parse and must
// follow probes/http-probe-file.schema.json.
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SlimifyError } from '../../../src/errors.js';
import { parseHeaders, parseStatus, probesFromDocument, readProbeFile } from '../../../src/probes/probe-file.js';
import { check } from './json-schema-check.js';

const PROBES_DIR = new URL('../../../probes/', import.meta.url).pathname;
const schema = JSON.parse(readFileSync(join(PROBES_DIR, 'http-probe-file.schema.json'), 'utf8')) as Record<string, unknown>;
const context = { exposedPorts: [8000], timeoutMs: 30_000 };
const work = mkdtempSync(join(tmpdir(), 'slimify-probe-file-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function probeFile(name: string, document: unknown): string {
  const path = join(work, name);
  writeFileSync(path, typeof document === 'string' ? document : JSON.stringify(document));
  return path;
}

async function failure(promise: Promise<unknown>): Promise<SlimifyError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(SlimifyError);
  expect((error as SlimifyError).code).toBe('usage');
  return error as SlimifyError;
}

describe('docker-slim probe files', () => {
  it("reads the README example unchanged, including its 'procotol' spelling", async () => {
    const probes = await readProbeFile(join(PROBES_DIR, 'docker-slim-readme.probes.json'), context);
    expect(probes.map((p) => `${p.method} ${p.path} ${p.port} ${p.protocol}`)).toEqual([
      'GET /api/info 8000 http',
      'POST /submit 8000 http',
      'GET /api/call?arg=one 8000 http',
      'POST /submit2 8000 http',
      'POST /submit3 8000 http',
    ]);
    expect(probes[3]!.body?.toString()).toBe('key=value');
    expect(probes[4]!.headers).toEqual({ 'Content-Type': 'application/json' });
  });

  it('reads body_file relative to the probe file, not the working directory', async () => {
    const probes = await readProbeFile(join(PROBES_DIR, 'docker-slim-readme.probes.json'), context);
    expect(probes[4]!.body?.toString()).toBe(readFileSync(join(PROBES_DIR, 'mydata.json'), 'utf8'));
  });

  it('falls back to the working directory for body_file, where docker-slim opened it', async () => {
    writeFileSync(join(work, 'cwd-body.txt'), 'from cwd');
    const cwd = process.cwd();
    process.chdir(work);
    try {
      const [probe] = await probesFromDocument({ commands: [{ method: 'POST', body_file: 'cwd-body.txt' }] }, join(tmpdir(), 'nowhere', 'p.json'), context);
      expect(probe!.body?.toString()).toBe('from cwd');
    } finally {
      process.chdir(cwd);
    }
  });

  it('has the defaults docker-slim has: GET, /, and (for slimify) the first exposed port', async () => {
    const [probe] = await probesFromDocument({ commands: [{}] }, 'p.json', { exposedPorts: [3000, 9000], timeoutMs: 5000 });
    expect(probe).toMatchObject({ method: 'GET', path: '/', port: 3000, protocol: 'http', timeoutMs: 5000, retries: 0, statusOnly: false, isDefault: false });
    expect(probe!.expect.status).toEqual([{ min: 100, max: 499 }]);
  });

  it('sends basic auth when username or password is set', async () => {
    const [withUser, onlyPassword] = await probesFromDocument({ commands: [{ username: 'ann', password: 'pw' }, { password: 'pw' }] }, 'p.json', context);
    expect(withUser!.headers.Authorization).toBe(`Basic ${Buffer.from('ann:pw').toString('base64')}`);
    expect(onlyPassword!.headers.Authorization).toBe(`Basic ${Buffer.from(':pw').toString('base64')}`);
  });

  it('accepts a port as a number or a numeric string, and https', async () => {
    const probes = await probesFromDocument({ commands: [{ port: 8000 }, { port: '8000', protocol: 'HTTPS' }] }, 'p.json', context);
    expect(probes.map((p) => [p.port, p.protocol])).toEqual([[8000, 'http'], [8000, 'https']]);
  });

  it('accepts crawl and ignores it', async () => {
    const probes = await probesFromDocument({ commands: [{ resource: '/', crawl: true }] }, 'p.json', context);
    expect(probes).toHaveLength(1);
  });
});

describe('headers', () => {
  it('splits "Name: value" at the first colon and trims both sides', () => {
    expect(parseHeaders(['Content-Type: application/json', 'X-Time:12:30', '  Accept :  */*  '], 'here')).toEqual({ 'Content-Type': 'application/json', 'X-Time': '12:30', Accept: '*/*' });
  });

  it('joins repeated header names, whatever their case', () => {
    expect(parseHeaders(['Accept: a', 'accept: b'], 'here')).toEqual({ Accept: 'a, b' });
  });

  it('accepts an object of names and values', () => {
    expect(parseHeaders({ Authorization: 'Bearer t' }, 'here')).toEqual({ Authorization: 'Bearer t' });
  });

  it('rejects a line without a name or a colon', () => {
    expect(() => parseHeaders(['no colon here'], 'probe file p.json, command 2')).toThrow('probe file p.json, command 2: header "no colon here" is not "Name: value"');
    expect(() => parseHeaders([': value'], 'w')).toThrow('is not "Name: value"');
    expect(() => parseHeaders('Accept: */*', 'w')).toThrow('"headers" must be a list');
  });
});

describe('expected status', () => {
  it.each([
    [200, { min: 200, max: 200 }],
    ['404', { min: 404, max: 404 }],
    ['2xx', { min: 200, max: 299 }],
    ['4XX', { min: 400, max: 499 }],
    ['200-399', { min: 200, max: 399 }],
  ])('reads %s', (value, range) => {
    expect(parseStatus(value, 'here')).toEqual(range);
  });

  it.each(['abc', '99', '600', '300-200', '6xx', '2x'])('rejects %s and says what is allowed', (value) => {
    expect(() => parseStatus(value, 'probe file p.json, command 1')).toThrow(/probe file p\.json, command 1: expected status ".*" is not a status \(100-599\), a range like 200-299, or a class like 2xx/);
  });

  it('takes a list and the body checks', async () => {
    const [probe] = await probesFromDocument({ commands: [{ expect_status: [200, '3xx'], expect_body_contains: 'ok', expect_body_regex: '^\\{', status_only: true, timeout: 2.5, retries: 3, name: 'home' }] }, 'p.json', context);
    expect(probe).toMatchObject({ name: 'home', expect: { status: [{ min: 200, max: 200 }, { min: 300, max: 399 }], bodyContains: 'ok', bodyRegex: '^\\{' }, statusOnly: true, timeoutMs: 2500, retries: 3 });
  });
});

describe('bad probe files fail before anything runs, naming the file and the problem', () => {
  it('a file that does not exist', async () => {
    const error = await failure(readProbeFile(join(work, 'absent.json'), context));
    expect(error.message).toBe(`cannot read probe file ${join(work, 'absent.json')}: no such file`);
  });

  it('invalid JSON', async () => {
    const file = probeFile('broken.json', '{"commands": [ {"resource": "/"} ');
    expect((await failure(readProbeFile(file, context))).message).toMatch(new RegExp(`^probe file ${file}: not valid JSON: `));
  });

  it('no commands list, or an empty one', async () => {
    expect((await failure(readProbeFile(probeFile('list.json', [{ resource: '/' }]), context))).message).toContain('expected an object like {"commands": [...]}');
    expect((await failure(readProbeFile(probeFile('empty.json', { commands: [] }), context))).message).toContain('"commands" is empty');
  });

  it('an unknown field, with the field it probably meant', async () => {
    const file = probeFile('typo.json', { commands: [{ resource: '/' }, { resource: '/', expect_stauts: 200 }] });
    expect((await failure(readProbeFile(file, context))).message).toBe(`probe file ${file}, command 2: unknown field "expect_stauts" (did you mean "expect_status"?); see probes/http-probe-file.schema.json`);
    const top = probeFile('top.json', { commands: [{}], command: [] });
    expect((await failure(readProbeFile(top, context))).message).toBe(`probe file ${top}: unknown top-level field "command" (expected "commands")`);
  });

  it('a port the image does not expose', async () => {
    const file = probeFile('port.json', { commands: [{ resource: '/', port: 8080 }] });
    expect((await failure(readProbeFile(file, context))).message).toBe(`probe file ${file}, command 1: port 8080 is not exposed by the image (it exposes 8000); probes reach the app only through exposed ports`);
    expect((await failure(readProbeFile(probeFile('noport.json', { commands: [{}] }), { exposedPorts: [], timeoutMs: 1 }))).message).toContain('no "port" given and the image exposes no TCP port');
  });

  it('an unreadable body_file', async () => {
    const file = probeFile('body.json', { commands: [{ method: 'POST', resource: '/', body_file: 'missing-body.json' }] });
    const error = await failure(readProbeFile(file, context));
    expect(error.message).toBe(`probe file ${file}, command 1: cannot read body_file ${join(work, 'missing-body.json')} (ENOENT); body_file is relative to the probe file`);
  });

  it.each([
    [{ resource: 'api' }, '"resource" "api" must start with /'],
    [{ resource: 5 }, '"resource" must be a string, not 5'],
    [{ port: 'http' }, '"port" "http" is not a port number'],
    [{ protocol: 'ws' }, 'protocol "ws" is not supported (http and https are); use a --probe-script to speak ws'],
    [{ protocol: 'gopher' }, 'protocol "gopher" is not one of http, https'],
    [{ body: 'a', body_file: 'b' }, 'give "body" or "body_file", not both'],
    [{ expect_body_regex: '(' }, '"expect_body_regex" is not a valid regular expression'],
    [{ expect_status: [] }, '"expect_status" must be a status'],
    [{ timeout: 0 }, '"timeout" must be a positive number of seconds'],
    [{ retries: 1.5 }, '"retries" must be a whole number from 0 to 100'],
    [{ status_only: 'yes' }, '"status_only" must be a boolean'],
    [{ method: 'GET /' }, '"method" "GET /" is not an HTTP method'],
  ])('%j', async (command, message) => {
    const error = await failure(probesFromDocument({ commands: [command] }, 'p.json', context));
    expect(error.message).toContain(`probe file p.json, command 1: ${message}`);
  });
});

describe('the JSON Schema', () => {
  const examples = readdirSync(PROBES_DIR).filter((name) => name.endsWith('.probes.json'));

  it('has examples to check', () => {
    expect(examples).toEqual(expect.arrayContaining(['docker-slim-readme.probes.json', 'python-web.probes.json']));
  });

  for (const name of examples) {
    it(`accepts probes/${name}, which slimify reads`, async () => {
      const document = JSON.parse(readFileSync(join(PROBES_DIR, name), 'utf8')) as unknown;
      expect(check(schema, document)).toEqual([]);
      await expect(probesFromDocument(document, join(PROBES_DIR, name), context)).resolves.not.toHaveLength(0);
    });
  }

  it.each([
    { commands: [{ expect_stauts: 200 }] },
    { commands: [] },
    { commands: [{ resource: 'no-slash' }] },
    { commands: [{ headers: ['no colon'] }] },
    { commands: [{ protocol: 'ws' }] },
    { commands: [{ body: 'a', body_file: 'b' }] },
    { commands: [{ expect_status: '6xx' }] },
    { commands: [{ port: 70000 }] },
    { commands: [{ retries: -1 }] },
    { commands: [{}], extra: 1 },
  ])('rejects %j, as slimify does', async (document) => {
    expect(check(schema, document)).not.toEqual([]);
    await failure(probesFromDocument(document, join(work, 'p.json'), { exposedPorts: [8000, 70000], timeoutMs: 1 }));
  });

  it('describes every field slimify reads', () => {
    const fields = Object.keys(((schema.$defs as Record<string, { properties: object }>).command).properties);
    expect(fields.sort()).toEqual(['body', 'body_file', 'crawl', 'expect_body_contains', 'expect_body_regex', 'expect_status', 'headers', 'method', 'name', 'password', 'port', 'procotol', 'protocol', 'resource', 'retries', 'status_only', 'timeout', 'username']);
  });
});
