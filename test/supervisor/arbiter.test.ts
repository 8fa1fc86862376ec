/**
 * The arbiter over stand-in mounts: it starts them, drives the supervised
 * ones (reload, grow, shrink, kill), forwards their events, waits for
 * in-flight requests within one grace, and leaves no timer behind.
 */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { AppLoadError } from '../../src/errors.js';
import { RequestRecord } from '../../src/http/request-record.js';
import { ErrorLog } from '../../src/observability/error-log.js';
import type { MountHandler, SupervisedMount, SupervisionEvents } from '../../src/routing/mount-handler.js';
import { Arbiter } from '../../src/supervisor/arbiter.js';

class StandInMount implements MountHandler, SupervisedMount {
  readonly kind = 'stand-in';
  readonly events = new EventEmitter<SupervisionEvents>();
  readonly sources = { directories: [], files: [] };
  readonly calls: string[] = [];
  pids = [101, 102];
  /** close() resolves only when this is called; null: at once. */
  closeGate: Promise<void> | null = null;

  get supervised(): SupervisedMount {
    return this;
  }
  handle(): void {}
  async start(): Promise<void> {
    this.calls.push('start');
  }
  async close(graceMs: number): Promise<void> {
    this.calls.push(`close ${graceMs > 0 ? 'with grace' : 'without grace'}`);
    await this.closeGate;
  }
  async reload(): Promise<void> {
    this.calls.push('reload');
  }
  grow(): void {
    this.calls.push('grow');
  }
  shrink(): void {
    this.calls.push('shrink');
  }
  kill(): void {
    this.calls.push('kill');
  }
  async reloadChangedCode(): Promise<boolean> {
    return true;
  }
}

const quietLog = (): ErrorLog => new ErrorLog(new PassThrough().resume(), 'critical');

function arbiterOver(...mounts: MountHandler[]): Arbiter {
  return new Arbiter(mounts, [], quietLog(), { gracefulTimeout: 30, reload: false });
}

/** A request whose response ends when the test says so. */
function openRequest(): { request: RequestRecord; end: () => void } {
  const res = new EventEmitter() as unknown as ServerResponse;
  const request = new RequestRecord({} as IncomingMessage, res, {
    scheme: 'http',
    serverName: 'localhost',
    serverPort: '80',
    remoteAddr: '127.0.0.1',
    remotePort: '5000',
    forwardedHost: null,
  });
  return { request, end: () => res.emit('close') };
}

/** An error log whose lines the test can read: a Writable's first write reaches write() at once. */
function readableLog(): { log: ErrorLog; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  return { log: new ErrorLog(stream, 'info'), text: () => text };
}

describe('Arbiter', () => {
  it('counts the ready workers when it starts, and counts none on a site without worker mounts', async () => {
    const withWorkers = readableLog();
    await new Arbiter([new StandInMount()], [], withWorkers.log, { gracefulTimeout: 30, reload: false }).start();
    assert.match(withWorkers.text(), /\[INFO\] listening on , 2 workers ready$/m);

    const cgiAndStatic = readableLog();
    const plain: MountHandler[] = [{ kind: 'cgi', handle() {} }, { kind: 'static', handle() {} }];
    await new Arbiter(plain, [], cgiAndStatic.log, { gracefulTimeout: 30, reload: false }).start();
    assert.match(cgiAndStatic.text(), /\[INFO\] listening on $/m);
    assert.doesNotMatch(cgiAndStatic.text(), /worker/);
  });

  it('starts every mount, and drives only the supervised ones on reload, grow and shrink', async () => {
    const supervised = new StandInMount();
    const plain: MountHandler = { kind: 'static', handle() {} };
    const arbiter = arbiterOver(supervised, plain);
    const started = once(arbiter, 'start');
    await arbiter.start();
    assert.deepEqual(await started, [[]]);
    assert.deepEqual(arbiter.workerPids, [101, 102]);
    const reloaded = once(arbiter, 'reload');
    await arbiter.reload();
    await reloaded;
    arbiter.grow();
    arbiter.shrink();
    assert.deepEqual(supervised.calls, ['start', 'reload', 'grow', 'shrink']);
  });

  it('forwards worker exits and a fatal load failure from its mounts', async () => {
    const mount = new StandInMount();
    const arbiter = arbiterOver(mount);
    const exit = once(arbiter, 'workerExit');
    mount.events.emit('workerExit', 7, 'exited with code 1');
    assert.deepEqual(await exit, [7, 'exited with code 1']);
    const fatal = once(arbiter, 'fatal');
    const error = new AppLoadError('Traceback: ImportError');
    mount.events.emit('fatal', error);
    assert.equal((await fatal)[0], error);
  });

  it('waits for in-flight requests before closing the mounts, and tells each request its end', async () => {
    const mount = new StandInMount();
    const arbiter = arbiterOver(mount);
    const ended: RequestRecord[] = [];
    const { request, end } = openRequest();
    arbiter.track(request, (done) => ended.push(done));
    let stopped = false;
    const stopping = arbiter.stop(5_000).then(() => (stopped = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(stopped, false, 'a request is still running');
    assert.deepEqual(mount.calls, []);
    end();
    await stopping;
    assert.deepEqual(ended, [request]);
    assert.deepEqual(mount.calls, ['close with grace']);
  });

  it('kills the workers of a mount that does not close within the grace, and leaves no timer armed', async () => {
    const mount = new StandInMount();
    mount.closeGate = new Promise(() => {});
    const arbiter = arbiterOver(mount);
    const timersBefore = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    const { request } = openRequest();
    arbiter.track(request, () => {});
    const began = Date.now();
    await arbiter.stop(150);
    assert.ok(Date.now() - began < 1_000, 'one grace for the whole stop');
    assert.deepEqual(mount.calls, ['close without grace', 'kill']);
    const timersAfter = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
    assert.equal(timersAfter, timersBefore);
  });
});
