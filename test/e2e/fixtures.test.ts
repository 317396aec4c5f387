// The fixture images are what every other end-to-end test slims down; here they must answer
// exactly as fixtures/catalogue.json says, on the real engine.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

interface Endpoint {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
  contentType?: string;
  bodyContains: string;
}

interface Command {
  args: string[];
  stdin: string;
  stdout: string;
  exitCode: number;
}

interface Fixture {
  name: string;
  image: string;
  port: number | null;
  endpoints: Endpoint[];
  commands: Command[];
}

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

const catalogue = JSON.parse(
  readFileSync(new URL('../../fixtures/catalogue.json', import.meta.url), 'utf8'),
) as { fixtures: Fixture[] };

const session = randomBytes(4).toString('hex');
const labels = ['--label', 'slimify.test=1', '--label', `slimify.test.session=${session}`];
const READY_DEADLINE_MS = 60_000;

async function ask(port: number, endpoint: Endpoint): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}${endpoint.path}`, {
    method: endpoint.method,
    headers: endpoint.headers,
    body: endpoint.body,
    signal: AbortSignal.timeout(5_000),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body: await response.text(),
  };
}

function matches(answer: Answer, endpoint: Endpoint): boolean {
  return (
    answer.status === endpoint.status &&
    answer.body.includes(endpoint.bodyContains) &&
    (endpoint.contentType === undefined || answer.contentType.startsWith(endpoint.contentType))
  );
}

/** Asks until the answer matches or the deadline passes; a server still starting refuses connections. */
async function askUntilExpected(port: number, endpoint: Endpoint): Promise<Answer | Error> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  let last: Answer | Error = new Error('never asked');
  while (Date.now() < deadline) {
    try {
      last = await ask(port, endpoint);
      if (matches(last, endpoint)) return last;
    } catch (error) {
      last = error instanceof Error ? error : new Error(String(error));
    }
    await sleep(250);
  }
  return last;
}

async function publishedPort(container: string, port: number): Promise<number> {
  const { stdout } = await execa('docker', ['port', container, `${port}/tcp`]);
  const line = stdout.split('\n').find((l) => l.startsWith('127.0.0.1:'));
  if (line === undefined) throw new Error(`${container}: port ${port} is not published on 127.0.0.1 (${stdout})`);
  return Number(line.slice('127.0.0.1:'.length));
}

afterAll(async () => {
  // Safety net: whatever a failed hook left behind in this session goes too.
  const { stdout } = await execa('docker', ['ps', '-aq', '--filter', `label=slimify.test.session=${session}`]);
  const ids = stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await execa('docker', ['rm', '-f', '-v', ...ids], { reject: false });
});

describe('the Docker engine', () => {
  it('answers', async () => {
    const { stdout } = await execa('docker', ['info', '--format', '{{.ServerVersion}}']);
    expect(stdout.trim()).not.toBe('');
  });
});

for (const fixture of catalogue.fixtures.filter((f) => f.port !== null)) {
  const containerPort = fixture.port as number;

  describe(`fixture ${fixture.name} (${fixture.image})`, () => {
    const container = `slimify-test-${fixture.name}-${session}`;
    let hostPort = 0;

    beforeAll(async () => {
      await execa('docker', [
        'run', '-d', '--name', container, ...labels, '-p', `127.0.0.1::${containerPort}`, fixture.image,
      ]);
      hostPort = await publishedPort(container, containerPort);
    });

    afterAll(async () => {
      await execa('docker', ['rm', '-f', '-v', container], { reject: false });
    });

    for (const endpoint of fixture.endpoints) {
      it(`answers ${endpoint.method} ${endpoint.path} with ${endpoint.status} and "${endpoint.bodyContains}"`, async () => {
        const answer = await askUntilExpected(hostPort, endpoint);
        if (answer instanceof Error || !matches(answer, endpoint)) {
          const { stdout, stderr } = await execa('docker', ['logs', '--tail', '30', container], { reject: false });
          const got = answer instanceof Error ? answer.message : JSON.stringify(answer).slice(0, 500);
          expect.fail(`${fixture.name} ${endpoint.method} ${endpoint.path}: got ${got}\nlogs:\n${stdout}\n${stderr}`);
        }
      });
    }

    it('stops promptly when asked to', async () => {
      const started = Date.now();
      await execa('docker', ['stop', '-t', '10', container]);
      expect(Date.now() - started).toBeLessThan(8_000);
    });
  });
}

for (const fixture of catalogue.fixtures.filter((f) => f.port === null)) {
  describe(`fixture ${fixture.name} (${fixture.image})`, () => {
    fixture.commands.forEach((command, i) => {
      it(`prints ${JSON.stringify(command.stdout)} for ${JSON.stringify(command.args)}`, async () => {
        const container = `slimify-test-${fixture.name}-${i}-${session}`;
        try {
          const result = await execa(
            'docker',
            ['run', '-i', '--rm', '--name', container, ...labels, fixture.image, ...command.args],
            { input: command.stdin, reject: false, stripFinalNewline: false },
          );
          expect({ stdout: result.stdout, exitCode: result.exitCode }).toEqual({
            stdout: command.stdout,
            exitCode: command.exitCode,
          });
        } finally {
          await execa('docker', ['rm', '-f', '-v', container], { reject: false });
        }
      });
    });
  });
}
