/**
 * A worker whose runtime speaks another frame protocol version is refused at
 * its READY: ended at once, never 'ready', its exit a boot failure that names
 * both versions. The fake workers are Node scripts that write a READY on fd 3
 * and then wait, as a runtime from another portico release would.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { Capability, PROTOCOL_VERSION, encodeCount, encodeReady, FrameType, HEADER_SIZE } from '../../src/ipc/frame-codec.js';
import { ErrorLog } from '../../src/observability/error-log.js';
import type { WorkerHandle } from '../../src/supervisor/worker-handle.js';
import { WorkerProcess } from '../../src/supervisor/worker-process.js';

/** A process that sends `ready` on fd 3, then waits to be killed (a minute at most). */
function fakeWorker(ready: Buffer): WorkerHandle {
  const script = `require('fs').writeSync(3, Buffer.from(${JSON.stringify(ready.toString('hex'))}, 'hex')); setTimeout(() => {}, 60000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  return {
    pid: child.pid ?? 0,
    channel: child.stdio[3] as Socket,
    kill: (signal) => child.kill(signal),
    onExit: (listener) => child.once('exit', (code, signal) => listener(code, signal, null)),
  };
}

function capturingLog(): { log: ErrorLog; text: () => string } {
  const sink = new PassThrough();
  let text = '';
  sink.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { log: new ErrorLog(sink, 'debug'), text: () => text };
}

async function boot(ready: Buffer): Promise<{ worker: WorkerProcess; wasReady: boolean; ms: number; logged: string }> {
  const { log, text } = capturingLog();
  const started = Date.now();
  const worker = new WorkerProcess(fakeWorker(ready), 1, log);
  let wasReady = false;
  worker.on('ready', () => (wasReady = true));
  await once(worker, 'exit');
  return { worker, wasReady, ms: Date.now() - started, logged: text() };
}

describe('the protocol version in READY', () => {
  it('refuses a runtime of another version promptly, naming both versions and why', async () => {
    const other = PROTOCOL_VERSION + 1;
    const { worker, wasReady, ms, logged } = await boot(encodeReady({ pid: 4321, version: other, capabilities: Capability.WSGI }));
    assert.equal(wasReady, false, 'a refused worker is never ready, so the pool fails its boot');
    assert.ok(ms < 5_000, `refused after ${ms} ms`);
    assert.equal(worker.state, 'exited');
    const description = worker.exitDescription ?? '';
    assert.match(description, new RegExp(`protocol version ${other}\\b`));
    assert.match(description, new RegExp(`this front speaks version ${PROTOCOL_VERSION}\\b`));
    assert.match(description, /python\/ runtime and the front come from different portico versions/);
    assert.match(logged, /worker 4321 was refused/);
  });

  it('refuses a runtime from before versions, whose READY was a pid alone', async () => {
    const bare = encodeCount(FrameType.WINDOW, 0, 4321);
    bare[0] = FrameType.READY;
    assert.equal(bare.length, HEADER_SIZE + 4);
    const { wasReady, worker } = await boot(bare);
    assert.equal(wasReady, false);
    assert.match(worker.exitDescription ?? '', /speaks no protocol version/);
  });

  it('takes a runtime of this version, and keeps its capabilities', async () => {
    const { log } = capturingLog();
    const worker = new WorkerProcess(
      fakeWorker(encodeReady({ pid: 4321, version: PROTOCOL_VERSION, capabilities: Capability.WSGI | Capability.ASGI })),
      1,
      log,
    );
    await once(worker, 'ready');
    assert.equal(worker.pid, 4321);
    assert.equal(worker.capabilities, Capability.WSGI | Capability.ASGI);
    worker.kill();
    await once(worker, 'exit');
  });
});
