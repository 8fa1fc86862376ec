/**
 * src/http/body-timeout.ts: the body idle timeout, on a fake clock (Date.now
 * and setInterval, advanced by hand) so each boundary is exact: it fires once the body has made no progress for the
 * whole timeout, never a tick earlier, and never for a request without a
 * body, a reader that is the slow side, or a response already over.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { watchBodyIdle } from '../../src/http/body-timeout.js';

/** What watchBodyIdle reads of a request, its socket and its response, all settable. */
function exchange(headers: Record<string, string | undefined> = { 'content-length': '10' }) {
  const socket = { bytesRead: 100, destroyed: false };
  const req = { headers, socket, complete: false, paused: false, readableLength: 0, isPaused(): boolean { return this.paused; } };
  const res = Object.assign(new EventEmitter(), { writableEnded: false });
  let timeouts = 0;
  const watch = (timeoutMs: number): void =>
    watchBodyIdle(req as unknown as IncomingMessage, res as unknown as ServerResponse, timeoutMs, () => timeouts++);
  return { socket, req, res, watch, timeouts: () => timeouts };
}

interface FakeInterval {
  run: () => void;
  every: number;
  next: number;
  cleared: boolean;
  unref(): FakeInterval;
}

/**
 * Date.now and setInterval under the test's hand: tick(ms) runs every
 * interval due on the way, each at its own time. (node:test's mock.timers,
 * on Node 20, ignores a clearInterval made from the interval's own callback.)
 */
function installFakeClock(): { tick(ms: number): void } {
  let now = 1_000_000;
  const intervals: FakeInterval[] = [];
  mock.method(Date, 'now', () => now);
  mock.method(globalThis, 'setInterval', (run: () => void, every: number) => {
    const interval: FakeInterval = { run, every, next: now + every, cleared: false, unref: () => interval };
    intervals.push(interval);
    return interval;
  });
  mock.method(globalThis, 'clearInterval', (interval: FakeInterval | undefined) => {
    if (interval !== undefined) interval.cleared = true;
  });
  return {
    tick(ms: number): void {
      const end = now + ms;
      for (;;) {
        const due = intervals.filter((i) => !i.cleared && i.next <= end).sort((a, b) => a.next - b.next)[0];
        if (due === undefined) break;
        now = due.next;
        due.next += due.every;
        due.run();
      }
      now = end;
    },
  };
}

describe('watchBodyIdle', () => {
  let clock: { tick(ms: number): void };
  beforeEach(() => (clock = installFakeClock()));
  afterEach(() => mock.restoreAll());

  it('fires once the body has been idle for the whole timeout, not a tick before, and only once', () => {
    const x = exchange();
    x.watch(400);
    clock.tick(399);
    assert.equal(x.timeouts(), 0);
    clock.tick(1);
    assert.equal(x.timeouts(), 1);
    clock.tick(10_000);
    assert.equal(x.timeouts(), 1);
  });

  it('counts from the last body bytes that arrived', () => {
    const x = exchange({ 'transfer-encoding': 'chunked' });
    x.watch(400);
    clock.tick(250);
    x.socket.bytesRead += 1;
    // Seen at the next check (every timeout/4 = 100 ms), at 300 ms: idle from there.
    clock.tick(449);
    assert.equal(x.timeouts(), 0);
    clock.tick(1);
    assert.equal(x.timeouts(), 1);
  });

  it('never blames the client while the reader is the slow side (paused, or bytes unread)', () => {
    const x = exchange();
    x.watch(400);
    x.req.paused = true;
    clock.tick(5_000);
    x.req.paused = false;
    x.req.readableLength = 5;
    clock.tick(5_000);
    assert.equal(x.timeouts(), 0);
    x.req.readableLength = 0;
    clock.tick(500);
    assert.equal(x.timeouts(), 1);
  });

  it('stops watching once the body is complete, the response is over or closed, or the socket is gone', () => {
    const ends: Array<(x: ReturnType<typeof exchange>) => void> = [
      (x) => (x.req.complete = true),
      (x) => (x.res.writableEnded = true),
      (x) => x.res.emit('close'),
      (x) => (x.socket.destroyed = true),
    ];
    for (const end of ends) {
      const x = exchange();
      x.watch(400);
      clock.tick(200);
      end(x);
      clock.tick(10_000);
      assert.equal(x.timeouts(), 0, String(end));
    }
  });

  it('watches nothing without a body, or with a timeout of 0', () => {
    for (const headers of [{}, { 'content-length': '0' }]) {
      const x = exchange(headers);
      x.watch(400);
      clock.tick(10_000);
      assert.equal(x.timeouts(), 0, JSON.stringify(headers));
    }
    const x = exchange();
    x.watch(0);
    clock.tick(10_000);
    assert.equal(x.timeouts(), 0);
  });
});
