/**
 * A WebSocket client that does not keep up, or keeps the server busy
 * (issue #14): one that never reads while the application sends 100 MB
 * (the front holds a bounded amount and the application's send() waits), a
 * ping flood from a client that does not read the pongs (answered or
 * throttled, the front's memory bounded either way: `ws` drops a client
 * with more than 60 pongs waiting to be written), and the front's own
 * pings (--ws-ping-interval): a client that answers them stays, one that
 * does not is closed with 1011 or dropped.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Portico } from '../helpers/portico.js';
import { fixtureSaid, uniqueMark } from '../helpers/asgi-fixtures.js';
import { rssKiB } from '../helpers/proc.js';
import { splitHead } from '../helpers/raw-response.js';
import { startWs } from '../helpers/websocket-fixtures.js';
import { closeAll, WsClient, wsUrl } from '../helpers/websocket-client.js';
import { encodeFrame, handshakeRequest, Opcode, parseFrames, rawWebSocket, serverClose } from '../helpers/websocket-frames.js';

const MiB = 1024 * 1024;

/** The highest `flood sent mib=N` the application has logged for `mark`. */
function floodSent(server: Portico, mark: string): number {
  const all = [...server.logs().matchAll(new RegExp(`flood sent mib=(\\d+) mark=${mark}\\b`, 'g'))];
  return all.length === 0 ? 0 : Number(all[all.length - 1]?.[1]);
}

/** Peak RSS of `pid` over `ms`, sampled every 50 ms. */
async function peakRssOver(pid: number, ms: number): Promise<number> {
  let peak = rssKiB(pid) ?? 0;
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    peak = Math.max(peak, rssKiB(pid) ?? 0);
  }
  return peak;
}

describe('WebSocket flow control', { timeout: 90_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startWs('raw_ws:app', ['--ws-ping-interval', '0']);
  });
  after(async () => {
    closeAll();
    await server?.stop();
  });

  it('a client that never reads while the app sends 100 MB: the front stays bounded, the app waits, and all of it arrives once read', async () => {
    const mark = uniqueMark('flood');
    const client = await WsClient.open(wsUrl(server.url, `/flood?mb=100&mark=${mark}`));
    client.ws.pause();
    const frontBefore = rssKiB(server.pid) ?? 0;
    await fixtureSaid(server, `flood sent mib=1 mark=${mark}`);
    // Not an event but its absence: for 2 s the application gets no further than buffers allow.
    const frontPeak = await peakRssOver(server.pid, 2_000);
    const sent = floodSent(server, mark);
    console.log(`# 100 MB to a client that does not read: the app got ${sent} MiB out in 2 s; front RSS ${(frontBefore / 1024).toFixed(1)} -> peak ${(frontPeak / 1024).toFixed(1)} MiB`);
    assert.ok(sent < 32, `the application sent ${sent} MiB to a client that reads nothing`);
    assert.ok(frontPeak - frontBefore < 48 * 1024, `front RSS grew by ${((frontPeak - frontBefore) / 1024).toFixed(1)} MiB`);
    assert.doesNotMatch(server.logs(), new RegExp(`flood done mark=${mark}`));
    // Reading again: every byte comes, then the application's close.
    let bytes = 0;
    client.ws.on('message', (data: Buffer) => (bytes += data.length));
    client.ws.resume();
    const closed = await client.closedWithin(60_000);
    assert.equal(closed.code, 1000);
    assert.equal(bytes, 100 * MiB);
    await fixtureSaid(server, `flood done mark=${mark}`);
  });

  it('a client that sends 100 MB while the app receives nothing: the front stops reading it (--ws-max-queue), both processes bounded, nothing lost', async () => {
    const mark = uniqueMark('sink');
    const client = await WsClient.open(wsUrl(server.url, `/sink?s=3&mark=${mark}`));
    const worker = (await fixtureSaid(server, `sink waiting mark=${mark}`)).pid;
    const [front0, worker0] = [rssKiB(server.pid) ?? 0, rssKiB(worker) ?? 0];
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    for (let i = 0; i < 1_600; i++) client.send(chunk);
    client.send('end');
    // For the rest of the app's 3 s of not receiving, the front must not take it all in.
    const frontPeak = await peakRssOver(server.pid, 1_500);
    const workerPeak = rssKiB(worker) ?? 0;
    const unsent = client.ws.bufferedAmount;
    console.log(`# 100 MB from a client to an app that receives nothing: ${(unsent / MiB).toFixed(1)} MiB still in the client; front RSS +${((frontPeak - front0) / 1024).toFixed(1)} MiB, worker +${((workerPeak - worker0) / 1024).toFixed(1)} MiB`);
    assert.ok(unsent > 50 * MiB, `only ${(unsent / MiB).toFixed(1)} MiB wait in the client: the front read the rest`);
    assert.ok(frontPeak - front0 < 48 * 1024, `front RSS grew by ${((frontPeak - front0) / 1024).toFixed(1)} MiB`);
    assert.ok(workerPeak - worker0 < 48 * 1024, `worker RSS grew by ${((workerPeak - worker0) / 1024).toFixed(1)} MiB`);
    assert.equal(await client.nextText(30_000), `got ${100 * MiB} in 1600`);
    client.close();
  });

  it('a ping flood from a client that reads: 5,000 pings in bursts of 40, every one answered with its payload, and the echo still works', async () => {
    const conn = await rawWebSocket(server.port, '/echo');
    try {
      let sent = 0;
      for (let burst = 0; burst < 125; burst++) {
        const frames = Array.from({ length: 40 }, (_, i) => encodeFrame({ opcode: Opcode.PING, payload: `p${burst * 40 + i}` }));
        conn.write(Buffer.concat(frames));
        sent += frames.length;
        const ok = await conn.waitFor((buf) => parseFrames(buf).filter((f) => f.opcode === Opcode.PONG).length >= sent, 5_000);
        assert.ok(ok, `pongs for ${sent} pings`);
      }
      const pongs = parseFrames(conn.received).filter((f) => f.opcode === Opcode.PONG);
      assert.equal(pongs.length, 5_000);
      assert.equal(pongs[4_999]?.payload.toString(), 'p4999');
      conn.write(encodeFrame({ opcode: Opcode.TEXT, payload: 'after pings' }));
      assert.ok(await conn.waitFor((buf) => parseFrames(buf).some((f) => f.opcode === Opcode.TEXT && f.payload.toString() === 'after pings'), 5_000));
    } finally {
      conn.destroy();
    }
  });

  it('a ping flood from a client that reads nothing: answered or throttled, the front bounded, the connection then usable or closed', async () => {
    const mark = uniqueMark('pings');
    const socket: Socket = connect({ port: server.port, host: '127.0.0.1' });
    let socketError: Error | null = null;
    socket.on('error', (error) => (socketError = error));
    try {
      await once(socket, 'connect');
      socket.write(handshakeRequest(`/echo?mark=${mark}`));
      let received = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        received = Buffer.concat([received, chunk]);
      };
      socket.on('data', onData);
      await fixtureSaid(server, `echo open mark=${mark}`);
      while (splitHead(received) === null) await once(socket, 'data');
      socket.off('data', onData);
      socket.pause();
      assert.match(splitHead(received)?.head ?? '', /^HTTP\/1\.1 101 /);
      const frontBefore = rssKiB(server.pid) ?? 0;
      // 64 MiB of pings, 125-byte payloads, written as fast as the front takes them, for at most 8 s.
      const ping = encodeFrame({ opcode: Opcode.PING, payload: Buffer.alloc(125, 0x70) });
      const batch = Buffer.concat(Array.from({ length: 512 }, () => ping));
      let written = 0;
      let peak = frontBefore;
      const until = Date.now() + 8_000;
      while (written < 64 * MiB && Date.now() < until && !socket.destroyed) {
        if (!socket.write(batch)) {
          const drained = await Promise.race([once(socket, 'drain').then(() => true, () => false), once(socket, 'close').then(() => false), new Promise((r) => setTimeout(r, 200, false))]);
          if (!drained) peak = Math.max(peak, rssKiB(server.pid) ?? 0);
        }
        written += batch.length;
        if ((written / batch.length) % 64 === 0) peak = Math.max(peak, rssKiB(server.pid) ?? 0);
      }
      peak = Math.max(peak, await peakRssOver(server.pid, 300));
      console.log(`# ping flood: ${(written / MiB).toFixed(1)} MiB of pings written in ${8_000 - (until - Date.now())} ms; front RSS ${(frontBefore / 1024).toFixed(1)} -> peak ${(peak / 1024).toFixed(1)} MiB`);
      assert.ok(peak - frontBefore < 48 * 1024, `front RSS grew by ${((peak - frontBefore) / 1024).toFixed(1)} MiB under a ping flood`);
      // Reading again: pongs, then either a working echo or a close.
      socket.on('data', onData);
      socket.resume();
      received = Buffer.alloc(0);
      socket.write(encodeFrame({ opcode: Opcode.TEXT, payload: `after the flood ${mark}` }));
      const until2 = Date.now() + 30_000;
      let outcome = '';
      while (outcome === '' && Date.now() < until2) {
        const frames = parseFrames(received);
        if (frames.some((f) => f.opcode === Opcode.TEXT && f.payload.toString() === `after the flood ${mark}`)) outcome = 'echoed';
        else if (frames.some((f) => f.opcode === Opcode.CLOSE) || socket.destroyed) outcome = 'closed';
        else await Promise.race([once(socket, 'data').catch(() => undefined), once(socket, 'close'), new Promise((r) => setTimeout(r, 500))]);
        // Only the tail matters: keep the buffer small by dropping whole pongs read so far.
        if (outcome === '' && received.length > 4 * MiB) received = Buffer.alloc(0);
      }
      assert.notEqual(outcome, '', 'after the flood the connection answers or is closed, it does not hang');
      console.log(`# after the ping flood the connection was ${outcome}${socketError === null ? '' : ` (${(socketError as Error).message})`}`);
    } finally {
      socket.destroy();
    }
    await server.waitForLog(new RegExp(`echo disconnect code=\\S+ mark=${mark}\\b`), 10_000);
  });
});

describe('WebSocket pings: --ws-ping-interval 1 --ws-ping-timeout 1', { timeout: 30_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startWs('raw_ws:app', ['--ws-ping-interval', '1', '--ws-ping-timeout', '1']);
  });
  after(async () => {
    closeAll();
    await server?.stop();
  });

  it('keeps a client that answers pings: three pings come and the echo still works', async () => {
    const client = await WsClient.open(wsUrl(server.url, '/echo'));
    await client.next();
    let pings = 0;
    await new Promise<void>((resolve) => {
      client.ws.on('ping', () => {
        if (++pings === 3) resolve();
      });
    });
    assert.equal((await client.roundTrip('alive')).data.toString(), 'alive');
    client.close();
  });

  it('closes a client that never answers a ping with 1011, or drops it, within a few seconds; the app hears it', async () => {
    const mark = uniqueMark('nopong');
    const conn = await rawWebSocket(server.port, `/echo?mark=${mark}`);
    try {
      assert.ok(await conn.waitFor((buf) => parseFrames(buf).some((f) => f.opcode === Opcode.PING), 3_000), 'a ping came');
      const pingAt = Date.now();
      const closed = await serverClose(conn, 5_000);
      const after = Date.now() - pingAt;
      assert.ok(closed.code === 1011 || (closed.code === null && closed.tcpClosed), `closed with ${closed.code}`);
      assert.ok(after < 3_500, `closed ${after} ms after the unanswered ping`);
      assert.ok(await conn.waitForClose(3_000), 'and the TCP connection is dropped, though the client never answers the close');
    } finally {
      conn.destroy();
    }
    await server.waitForLog(new RegExp(`echo disconnect code=\\S+ mark=${mark}\\b`), 5_000);
  });
});
