/**
 * WorkerProcess over a fake channel: the frames it writes, how many writes
 * they cost (issue #2: Node batches its writes per event-loop tick), and the
 * progress it reports for the dispatch policy.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, Socket } from 'node:net';
import { PassThrough, Duplex } from 'node:stream';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { FrameDecoder } from '../../src/ipc/frame-decoder.js';
import { FrameType, MAX_CHUNK, encodeFrame, type FrameTypeCode, type RequestEnviron } from '../../src/ipc/frame-codec.js';
import { ErrorLog } from '../../src/observability/error-log.js';
import type { WorkerHandle } from '../../src/supervisor/worker-handle.js';
import { WorkerProcess, type WorkerStream } from '../../src/supervisor/worker-process.js';

/** The front's end of a channel, counting the writes that reach it; what the test pushes is what the worker said. */
class CountingChannel extends Duplex {
  /** One entry per write call on the underlying transport: the buffers it carried. */
  readonly writes: Buffer[][] = [];

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.writes.push([chunk]);
    callback();
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: () => void): void {
    this.writes.push(chunks.map(({ chunk }) => chunk));
    callback();
  }

  override _read(): void {}
}

function handleOver(channel: Duplex): WorkerHandle {
  return { pid: 4242, channel: channel as unknown as Socket, kill: () => {}, onExit: () => {} };
}

const quietLog = (): ErrorLog => new ErrorLog(new PassThrough().resume(), 'critical');

const ignoringStream: WorkerStream = {
  onStarted() {},
  onResponseHead() {},
  onResponseBody() {},
  onFile() {},
  onResponseEnd() {},
  onWantBody() {},
  onEarlyHints() {},
  onTrailers() {},
  onError() {},
  onWorkerLost() {},
};

const environ = (path: string): RequestEnviron => ({
  shared: [['SCRIPT_NAME', '']],
  own: [
    ['REQUEST_METHOD', 'GET'],
    ['PATH_INFO', path],
  ],
});

function framesIn(bytes: Buffer): Array<{ type: FrameTypeCode; stream: number; length: number }> {
  const frames: Array<{ type: FrameTypeCode; stream: number; length: number }> = [];
  new FrameDecoder().push(bytes, (type, _flags, stream, payload) => frames.push({ type, stream, length: payload.length }));
  return frames;
}

describe('WorkerProcess write batching', () => {
  it('sends the requests of one event-loop turn in one writev, in order, and nothing before the turn ends', async () => {
    const channel = new CountingChannel();
    const worker = new WorkerProcess(handleOver(channel), 1, quietLog());
    const ids = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => worker.dispatch(ignoringStream, environ(`/r${n}`), 0));
    assert.equal(channel.writes.length, 0, 'nothing is written while the turn goes on');
    await nextTurn();
    assert.equal(channel.writes.length, 1, 'eight requests, one write');
    assert.equal(channel.writes[0]?.length, 8, 'a writev of the eight frames');
    const frames = framesIn(Buffer.concat(channel.writes[0] ?? []));
    assert.deepEqual(frames.map((f) => [f.type, f.stream]), ids.map((id) => [FrameType.REQUEST, id]));
  });

  it('puts a request, its body pieces (as views of the body, not copies) and its end in the same writev', async () => {
    const channel = new CountingChannel();
    const worker = new WorkerProcess(handleOver(channel), 1, quietLog());
    const body = Buffer.alloc(2 * MAX_CHUNK + 100, 7);
    const id = worker.dispatch(ignoringStream, environ('/upload'), 0);
    worker.sendBody(id, body);
    worker.endBody(id, false);
    await nextTurn();
    assert.equal(channel.writes.length, 1);
    const buffers = channel.writes[0] ?? [];
    const pieces = buffers.filter((b) => b.buffer === body.buffer);
    assert.deepEqual(pieces.map((p) => p.length), [MAX_CHUNK, MAX_CHUNK, 100]);
    const frames = framesIn(Buffer.concat(buffers));
    assert.deepEqual(frames.map((f) => f.type), [FrameType.REQUEST, FrameType.REQUEST_BODY, FrameType.REQUEST_BODY, FrameType.REQUEST_BODY, FrameType.REQUEST_END]);
  });

  it('writes each turn as it ends: frames from a later turn are not held back for the next one', async () => {
    const channel = new CountingChannel();
    const worker = new WorkerProcess(handleOver(channel), 1, quietLog());
    worker.dispatch(ignoringStream, environ('/a'), 0);
    await nextTurn();
    worker.dispatch(ignoringStream, environ('/b'), 0);
    worker.dispatch(ignoringStream, environ('/c'), 0);
    await nextTurn();
    assert.deepEqual(channel.writes.map((w) => w.length), [1, 2]);
  });

  it('costs a real socket one writev for a turn of requests', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address() as { port: number };
    const accepted = once(server, 'connection');
    const socket = new Socket();
    socket.connect(address.port, '127.0.0.1');
    await once(socket, 'connect');
    const [peer] = (await accepted) as [Socket];
    try {
      // The transport's own entry points: each call is one write(2) or writev(2) into libuv.
      const calls: number[] = [];
      const internals = socket as unknown as { _write: (...args: unknown[]) => void; _writev: (...args: unknown[]) => void };
      const write = internals._write.bind(socket);
      const writev = internals._writev.bind(socket);
      internals._write = (...args) => {
        calls.push(1);
        write(...args);
      };
      internals._writev = (...args) => {
        calls.push((args[0] as unknown[]).length);
        writev(...args);
      };
      const worker = new WorkerProcess({ pid: 1, channel: socket, kill: () => {}, onExit: () => {} }, 1, quietLog());
      const received: Buffer[] = [];
      let size = 0;
      peer.on('data', (chunk: Buffer) => {
        received.push(chunk);
        size += chunk.length;
      });
      const sent = [1, 2, 3, 4, 5, 6].map((n) => worker.dispatch(ignoringStream, environ(`/r${n}`), 0));
      await nextTurn();
      assert.deepEqual(calls, [6], 'one writev of six frames');
      while (framesIn(Buffer.concat(received, size)).length < sent.length) await once(peer, 'data');
      assert.deepEqual(framesIn(Buffer.concat(received, size)).map((f) => f.stream), sent);
    } finally {
      socket.destroy();
      peer.destroy();
      server.close();
    }
  });
});

describe('WorkerProcess progress, for the dispatch policy', () => {
  it('starts the clock when an idle worker is given a request, not when a busy one is', async () => {
    const channel = new CountingChannel();
    const worker = new WorkerProcess(handleOver(channel), 1, quietLog());
    worker.dispatch(ignoringStream, environ('/a'), 0);
    const started = worker.progressAt;
    assert.ok(started > 0);
    await new Promise((resolve) => setTimeout(resolve, 5));
    worker.dispatch(ignoringStream, environ('/b'), 0);
    assert.equal(worker.progressAt, started, 'a request pipelined behind another does not reset it');
    assert.equal(worker.pace, 0, 'no pace before anything finished');
  });

  it('moves the clock and learns the pace when requests finish; requests ended in one read share a time', async () => {
    const channel = new CountingChannel();
    const worker = new WorkerProcess(handleOver(channel), 1, quietLog());
    const ids = [1, 2, 3].map(() => worker.dispatch(ignoringStream, environ('/'), 0));
    const started = worker.progressAt;
    const stamps: number[] = [];
    worker.on('streamDone', () => stamps.push(worker.progressAt));
    await new Promise((resolve) => setTimeout(resolve, 5));
    channel.push(Buffer.concat(ids.slice(0, 2).map((id) => encodeFrame(FrameType.RESPONSE_END, 0, id))));
    await nextTurn();
    assert.equal(stamps.length, 2);
    assert.equal(worker.inflight, 1);
    const [first, second] = stamps as [number, number];
    assert.ok(first > started, 'stamped when the read arrived');
    assert.equal(second, first, 'one clock reading per read');
    const interval = first - started;
    const pace = worker.pace;
    assert.ok(pace > 0 && pace < interval, `the first interval (${interval} ms) then a zero one, smoothed: ${pace} ms`);
    channel.push(encodeFrame(FrameType.RESPONSE_END, 0, ids[2] as number));
    await nextTurn();
    const next = (stamps[2] as number) - first;
    assert.ok(worker.pace >= Math.min(pace, next) && worker.pace <= Math.max(pace, next), 'the pace moves towards the latest interval');
  });
});
