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
// The timed modes speak the wire themselves (ws-wire.mjs: a normal handshake,
// then frames built once per connection and walked, not decoded), because
// this process shares the machine's cores with the server it measures and a
// full WebSocket library's work per message was a third of a server's. Each
// message is still checked (opcode, length, and in echo the bytes), so a
// server that answers wrongly counts `unexpected`. Idle mode opens its
// connections with the `ws` package: it measures the server's memory, and
// never sends a message.
//
//   node bench/ws-client.mjs --url ws://127.0.0.1:8000/echo --mode echo --connections 64 --seconds 2
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { FrameReader, handshake, maskedFrame, Opcode } from './ws-wire.mjs';

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
const payload = Buffer.from('x'.repeat(Number(args.size)));
const burst = Number(args.burst);
const timeoutMs = Number(args['timeout-seconds']) * 1000;
const errors = { connect: 0, read: 0, write: 0, timeout: 0 };
/** The size of each message /down sends (asgi_ws.py's and bare-node.mjs's MESSAGE). */
const DOWN_MESSAGE_BYTES = 64;

/** Idle mode's connection: the `ws` package's. */
function openLibrary(url) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    ws.once('open', () => resolve(ws));
    ws.once('error', () => {
      errors.connect++;
      resolve(null);
    });
  });
}

/**
 * A timed mode's connection: { socket, reader, frame(opcode, payload) },
 * frame() building a frame masked with the connection's one key.
 */
async function openWire(url) {
  try {
    const { socket, head } = await handshake(url, timeoutMs);
    const mask = randomBytes(4);
    return { socket, reader: new FrameReader(socket, head, mask), frame: (opcode, data) => maskedFrame(opcode, data, mask) };
  } catch {
    errors.connect++;
    return null;
  }
}

/** Opens `count` connections with `open`, at most `concurrency` handshakes at a time. */
async function openAll(open, url, concurrency) {
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
  return sockets;
}

/** runs(connection, done) on each connection; resolves with result() when all are done. */
function driveAll(connections, deadline, runs, result) {
  return new Promise((resolve) => {
    let running = connections.length;
    for (const connection of connections) {
      let finished = false;
      const done = () => {
        if (finished) return;
        finished = true;
        if (--running === 0) resolve(result());
      };
      // A connection that ends before the run does is an error of the run.
      connection.socket.on('error', () => errors.read++);
      connection.socket.once('close', () => {
        if (performance.now() < deadline) {
          errors.read++;
          done();
        }
      });
      runs(connection, done);
    }
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Each connection: send, await the echo, again, until the deadline. */
function echo(connections, deadline) {
  const latencies = [];
  let unexpected = 0;
  return driveAll(connections, deadline, ({ socket, reader, frame }, done) => {
    const message = frame(Opcode.TEXT, payload);
    let sentAt = 0;
    const send = () => {
      sentAt = performance.now();
      socket.write(message);
    };
    reader.onMessage = (opcode, buffer, start, end) => {
      const now = performance.now();
      if (opcode !== Opcode.TEXT || payload.compare(buffer, start, end) !== 0) unexpected++;
      if (now <= deadline) latencies.push((now - sentAt) / 1000);
      if (now < deadline) send();
      else done();
    };
    send();
  }, () => ({ messages: latencies.length, latencies, unexpected }));
}

/** Each connection asks for bursts of messages from the app, two outstanding. */
function down(connections, deadline) {
  let messages = 0;
  let unexpected = 0;
  return driveAll(connections, deadline, ({ socket, reader, frame }, done) => {
    const ask = frame(Opcode.TEXT, Buffer.from(String(burst)));
    let received = 0;
    let asked = 2;
    reader.onMessage = (opcode, buffer, start, end) => {
      if (opcode !== Opcode.TEXT || end - start !== DOWN_MESSAGE_BYTES) unexpected++;
      const now = performance.now();
      if (now <= deadline) messages++;
      if (++received % burst !== 0) return;
      asked--;
      if (now < deadline) {
        socket.write(ask);
        asked++;
      } else if (asked === 0) done();
    };
    socket.write(ask);
    socket.write(ask);
  }, () => ({ messages, unexpected }));
}

/** Each connection sends bursts of messages, each closed by "?"; two bursts in flight. */
function up(connections, deadline) {
  let messages = 0;
  let unexpected = 0;
  return driveAll(connections, deadline, ({ socket, reader, frame }, done) => {
    const one = frame(Opcode.TEXT, payload);
    const bursts = Buffer.concat([...Array.from({ length: burst }, () => one), frame(Opcode.TEXT, Buffer.from('?'))]);
    let inFlight = 0;
    const sendBurst = () => {
      socket.write(bursts);
      inFlight++;
    };
    reader.onMessage = (opcode, buffer, start, end) => {
      // Counted as the app acknowledges them: a message still in a buffer is not yet delivered.
      if (opcode !== Opcode.TEXT || Number(buffer.toString('latin1', start, end)) !== burst) unexpected++;
      inFlight--;
      const now = performance.now();
      if (now <= deadline) messages += burst;
      if (now < deadline) sendBurst();
      else if (inFlight === 0) done();
    };
    sendBurst();
    sendBurst();
  }, () => ({ messages, unexpected }));
}

/** Closes the `ws` package's connections (idle mode). */
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
  const idle = args.mode === 'idle';
  const drive = { echo, down, up }[args.mode];
  if (!drive && !idle) throw new Error(`unknown --mode ${args.mode}`);
  const openStarted = performance.now();
  const sockets = await openAll(idle ? openLibrary : openWire, args.url, Number(args['open-concurrency']));
  const openMs = performance.now() - openStarted;
  if (idle) {
    // An idle connection that fails before stdin ends is counted as it was before.
    for (const ws of sockets) ws.on('error', () => errors.read++);
    return holdIdle(sockets, openMs);
  }
  if (sockets.length === 0) throw new Error(`no connection opened to ${args.url}`);
  const seconds = Number(args.seconds);
  report({ phase: 'driving' });
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  // A server that stops answering must not hold the run past its timeout.
  const limit = new Promise((resolve) => setTimeout(() => resolve({ messages: NaN, timedOut: true }), (seconds + Number(args['timeout-seconds'])) * 1000).unref());
  const result = await Promise.race([drive(sockets, deadline), limit]);
  if (result.timedOut) errors.timeout++;
  const cpu = process.cpuUsage(cpuBefore);
  report({ phase: 'driven' });
  const sorted = (result.latencies ?? []).sort((a, b) => a - b);
  await Promise.all(sockets.map(({ reader }) => reader.close(5000)));
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
