#!/usr/bin/env node
// http-over-tcp.mjs: a slimify probe script that speaks a TCP protocol by hand.
//
//   slimify build IMAGE --probe-script probes/http-over-tcp.mjs
//
// It opens a plain socket to $SLIMIFY_TARGET_HOST:$SLIMIFY_TARGET_PORT (127.0.0.1 and the host
// port slimify published for the app's first exposed port), sends a raw HTTP/1.0 request for
// $PROBE_PATH (default /) and checks the reply line by line: the status line must be HTTP/1.x
// with a status below 400, and, when $PROBE_EXPECT is set, the reply must contain that text.
// Use it as a template for protocols slimify has no built-in probe for (Redis, SMTP, a game
// server ...): connect, write bytes, read until the answer is complete, exit 0 or not.
import net from 'node:net';

const host = process.env.SLIMIFY_TARGET_HOST;
const port = Number(process.env.SLIMIFY_TARGET_PORT);
const path = process.env.PROBE_PATH ?? '/';
const expect = process.env.PROBE_EXPECT;
if (!host || !Number.isInteger(port)) {
  console.error('http-over-tcp.mjs: SLIMIFY_TARGET_HOST/SLIMIFY_TARGET_PORT not set: run it through slimify build --probe-script');
  process.exit(2);
}

const socket = net.connect({ host, port });
const chunks = [];
socket.setTimeout(10_000, () => socket.destroy(new Error('no complete answer within 10 s')));
socket.on('connect', () => socket.write(`GET ${path} HTTP/1.0\r\nHost: ${host}:${port}\r\nUser-Agent: slimify-probe\r\n\r\n`));
socket.on('data', (chunk) => chunks.push(chunk));
socket.on('error', (error) => {
  console.error(`FAIL ${host}:${port} GET ${path}: ${error.message}`);
  process.exit(1);
});
// HTTP/1.0: the server closes the connection when the answer is complete
socket.on('end', () => {
  const reply = Buffer.concat(chunks).toString('latin1');
  const statusLine = reply.split('\r\n', 1)[0] ?? '';
  const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!match) {
    console.error(`FAIL ${host}:${port} GET ${path}: not an HTTP reply: ${JSON.stringify(statusLine.slice(0, 80))}`);
    process.exit(1);
  }
  if (Number(match[1]) >= 400) {
    console.error(`FAIL ${host}:${port} GET ${path}: ${statusLine}`);
    process.exit(1);
  }
  if (expect !== undefined && !reply.includes(expect)) {
    console.error(`FAIL ${host}:${port} GET ${path}: ${statusLine}, but the reply does not contain ${JSON.stringify(expect)}`);
    process.exit(1);
  }
  console.log(`ok   ${host}:${port} GET ${path}: ${statusLine} (${reply.length} bytes)`);
});
