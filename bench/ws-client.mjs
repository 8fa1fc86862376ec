#!/usr/bin/env node
// The WebSocket load client (wrk cannot speak WebSocket): a process of its
// own, so that its CPU is never counted as the server's. It opens every
// connection first, then drives them all for a fixed time, and prints one
// JSON report on stdout (bench/ws-load.mjs reads it).
//
//   --mode echo   each connection sends a message and awaits its echo, in a
//                 loop: round trips and their latencies
//   --mode down   the app sends: each connection asks for bursts of --burst
//                 messages, two at a time, and counts what arrives
//   --mode up     the client sends: bursts of --burst messages, each closed
//                 by "?", which the app answers with its count; two bursts
//                 in flight at a time, so that no socket buffers without bound
//   --mode idle   opens the connections, prints {"opened": n, ...}, holds
//                 them until stdin ends, then closes them and prints the end
//
// A timed run prints {"phase": "driving"} when the connections are open and
// the clock starts, and {"phase": "driven"} when the last message counted
// has arrived, so that the server's CPU is measured over that span only, not
// over the client's start, handshakes and closing.
//
// permessage-deflate is never offered: the cells measure the servers, not zlib.
//
//   node bench/ws-client.mjs --url ws://127.0.0.1:8000/echo --mode echo --connections 64 --seconds 2
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    mode: { type: 'string', default: 'echo' },
    connections: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '2' },
    size: { type: 'string', default: '64' },
    burst: { type: 'string', default: '200' },
    'open-concurrency': { type: 'string', default: '200' },
    'timeout-seconds': { type: 'string', default: '30' },
  },
});

const count = Number(args.connections);
const payload = 'x'.repeat(Number(args.size));
const burst = Number(args.burst);
const errors = { connect: 0, read: 0, write: 0, timeout: 0 };

function open(url) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: Number(args['timeout-seconds']) * 1000 });
    ws.once('open', () => resolve(ws));
    ws.once('error', () => {
      errors.connect++;
      resolve(null);
    });
  });
}

/** Opens `count` connections, at most `concurrency` handshakes at a time. */
async function openAll(url, concurrency) {
  const sockets = [];
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      const ws = await open(url);
      if (ws) sockets.push(ws);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  for (const ws of sockets) {
    // A socket that ends before the run does is an error of the run.
    ws.on('error', () => errors.read++);
  }
  return sockets;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Each socket: send, await the echo, again, until the deadline. */
function echo(sockets, deadline) {
  const latencies = [];
  let unexpected = 0;
  return new Promise((resolve) => {
    let running = sockets.length;
    const done = () => --running === 0 && resolve({ messages: latencies.length, latencies, unexpected });
    for (const ws of sockets) {
      let sentAt = 0;
      const send = () => {
        sentAt = performance.now();
        ws.send(payload);
      };
      ws.on('message', (data, isBinary) => {
        const now = performance.now();
        if (isBinary || data.length !== payload.length) unexpected++;
        if (now <= deadline) latencies.push((now - sentAt) / 1000);
        if (now < deadline) send();
        else done();
      });
      ws.once('close', () => {
        if (performance.now() < deadline) {
          errors.read++;
          done();
        }
      });
      send();
    }
  });
}

/** Each socket asks for bursts of messages from the app, two outstanding. */
function down(sockets, deadline) {
  let messages = 0;
  return new Promise((resolve) => {
    let running = sockets.length;
    const done = () => --running === 0 && resolve({ messages });
    for (const ws of sockets) {
      let received = 0;
      let asked = 2;
      ws.on('message', () => {
        const now = performance.now();
        if (now <= deadline) messages++;
        if (++received % burst !== 0) return;
        asked--;
        if (now < deadline) {
          ws.send(String(burst));
          asked++;
        } else if (asked === 0) done();
      });
      ws.send(String(burst));
      ws.send(String(burst));
    }
  });
}

/** Each socket sends bursts of messages, each closed by "?"; two bursts in flight. */
function up(sockets, deadline) {
  let messages = 0;
  let unexpected = 0;
  return new Promise((resolve) => {
    let running = sockets.length;
    const done = () => --running === 0 && resolve({ messages, unexpected });
    for (const ws of sockets) {
      let inFlight = 0;
      const sendBurst = () => {
        for (let i = 0; i < burst; i++) ws.send(payload);
        ws.send('?');
        inFlight++;
      };
      ws.on('message', (data) => {
        // Counted as the app acknowledges them: a message still in a buffer is not yet delivered.
        if (Number(data.toString()) !== burst) unexpected++;
        inFlight--;
        const now = performance.now();
        if (now <= deadline) messages += burst;
        if (now < deadline) sendBurst();
        else if (inFlight === 0) done();
      });
      sendBurst();
      sendBurst();
    }
  });
}

async function closeAll(sockets) {
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            ws.terminate();
            resolve();
          }, 5000);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          ws.close(1000);
        }),
    ),
  );
}

function report(object) {
  process.stdout.write(`${JSON.stringify(object)}\n`);
}

async function holdIdle(sockets, openMs) {
  report({ opened: sockets.length, failed: errors.connect, openMs });
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once('end', resolve));
  const stillOpen = sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length;
  await closeAll(sockets);
  report({ closed: true, stillOpen });
}

async function main() {
  if (!args.url) throw new Error('--url is required');
  const openStarted = performance.now();
  const sockets = await openAll(args.url, Number(args['open-concurrency']));
  const openMs = performance.now() - openStarted;
  if (args.mode === 'idle') return holdIdle(sockets, openMs);
  if (sockets.length === 0) throw new Error(`no connection opened to ${args.url}`);
  const seconds = Number(args.seconds);
  report({ phase: 'driving' });
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const drive = { echo, down, up }[args.mode];
  if (!drive) throw new Error(`unknown --mode ${args.mode}`);
  // A server that stops answering must not hold the run past its timeout.
  const limit = new Promise((resolve) => setTimeout(() => resolve({ messages: NaN, timedOut: true }), (seconds + Number(args['timeout-seconds'])) * 1000).unref());
  const result = await Promise.race([drive(sockets, deadline), limit]);
  if (result.timedOut) errors.timeout++;
  const cpu = process.cpuUsage(cpuBefore);
  report({ phase: 'driven' });
  const sorted = (result.latencies ?? []).sort((a, b) => a - b);
  await closeAll(sockets);
  report({
    mode: args.mode,
    connections: sockets.length,
    seconds,
    messages: result.messages,
    rate: result.messages / seconds,
    latency: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted.at(-1) ?? NaN },
    errors,
    unexpected: result.unexpected ?? 0,
    clientCpu: (cpu.user + cpu.system) / 1e6,
  });
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
