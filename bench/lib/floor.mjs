// The unavoidable floor of slimming an image on this machine, measured with plain docker commands:
// export the image's filesystem once, load an image of the slim size once, and run the app once
// (untraced) until every catalogued endpoint answered. slimify cannot do less than that.
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { docker, pipeline, sessionLabels, timed } from './engine.mjs';

/** `docker create` + `docker export | wc -c` + `docker rm`: reading the whole filesystem once. */
export async function timeExport(image) {
  const { ms, result: bytes } = await timed(async () => {
    const id = await docker(['create', ...sessionLabels, image]);
    try {
      return Number(await pipeline('docker export "$1" | wc -c', id));
    } finally {
      await docker(['rm', '-f', id]);
    }
  });
  return { ms, bytes };
}

/** `docker load` of a saved tarball whose tag was removed first, so its layer is really written. */
export async function timeLoad(tarball) {
  const { ms } = await timed(() => docker(['load', '-i', tarball]));
  return { ms };
}

/**
 * Starts the untraced original on a random 127.0.0.1 port and asks until every endpoint gives its
 * catalogued answer. firstAnswerMs counts from the moment `docker run -d` returned (the container
 * is started) to the first HTTP answer on the port, like slimify's readyMs; allAnsweredMs counts
 * from before `docker run` to the last expected answer (the floor's probe part). The host port is
 * chosen beforehand so that no `docker port` call sits inside the measured start-up.
 */
export async function timeUntracedProbes(fixture) {
  if (fixture.port === null) return timeCliRun(fixture);
  const port = await freeLocalPort();
  const started = performance.now();
  const id = await docker(['run', '-d', ...sessionLabels, '-p', `127.0.0.1:${port}:${fixture.port}`, fixture.image]);
  const running = performance.now();
  try {
    await untilAnswered(port, { method: 'GET', path: '/' }, () => true);
    const firstAnswerMs = Math.round(performance.now() - running);
    for (const endpoint of fixture.endpoints) await untilAnswered(port, endpoint, (a) => matches(a, endpoint));
    return { firstAnswerMs, allAnsweredMs: Math.round(performance.now() - started) };
  } finally {
    await docker(['rm', '-f', '-v', id]);
  }
}

/** A CLI image is "probed" by what slimify runs without probes: its default command, to its exit. */
async function timeCliRun(fixture) {
  const { ms } = await timed(() => docker(['run', '--rm', ...sessionLabels, fixture.image]));
  return { firstAnswerMs: null, allAnsweredMs: ms };
}

function freeLocalPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Polls every 20 ms (fine enough to time start-up) until accept(answer) or 60 s pass. */
async function untilAnswered(port, endpoint, accept) {
  const deadline = Date.now() + 60_000;
  let last = 'never asked';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}${endpoint.path}`, {
        method: endpoint.method,
        headers: endpoint.headers,
        body: endpoint.body,
        signal: AbortSignal.timeout(5_000),
      });
      const answer = { status: response.status, contentType: response.headers.get('content-type') ?? '', body: await response.text() };
      if (accept(answer)) return answer;
      last = `status ${answer.status}`;
    } catch (error) {
      last = error.message;
    }
    await sleep(20);
  }
  throw new Error(`${endpoint.method} ${endpoint.path} on 127.0.0.1:${port}: no expected answer within 60 s (last: ${last})`);
}

function matches(answer, endpoint) {
  return answer.status === endpoint.status && answer.body.includes(endpoint.bodyContains) &&
    (endpoint.contentType === undefined || answer.contentType.startsWith(endpoint.contentType));
}
