// The fixture images are what every other end-to-end test slims down; here they must answer
// exactly as fixtures/catalogue.json says, on the real engine.
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askUntilExpected, catalogue, matches, publishedPort, removeTestContainers, testLabels as labels, testSession as session } from './support.js';

// Safety net: whatever a failed hook left behind in this session goes too.
afterAll(removeTestContainers);

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
