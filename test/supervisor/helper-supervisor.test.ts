import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, it, mock } from 'node:test';
import { ErrorLog } from '../../src/observability/error-log.js';
import { describeExit, signalName } from '../../src/supervisor/exit-description.js';
import { HELPER_RESTART_DELAY_MS, HelperSupervisor, type Helper } from '../../src/supervisor/helper-supervisor.js';

/** A helper whose start and end the test decides. */
class FakeHelper implements Helper {
  static started: FakeHelper[] = [];
  stopped = false;
  readonly #onEnd: (description: string) => void;

  constructor(onEnd: (description: string) => void) {
    this.#onEnd = onEnd;
    FakeHelper.started.push(this);
  }

  stop(): void {
    this.stopped = true;
    this.end('exited with code 0');
  }

  end(description: string): void {
    this.#onEnd(description);
  }
}

function logged(): { log: ErrorLog; text: () => string } {
  let text = '';
  const stream = new PassThrough();
  stream.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return { log: new ErrorLog(stream, 'debug'), text: () => text };
}

/** Lets pending promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('HelperSupervisor', () => {
  /** What the next start does: 'ready' resolves with a new FakeHelper, anything else rejects with it. */
  let outcomes: string[];
  let output: ReturnType<typeof logged>;
  let supervisor: HelperSupervisor<FakeHelper>;

  beforeEach(() => {
    mock.timers.enable({ apis: ['setTimeout'] });
    FakeHelper.started = [];
    outcomes = [];
    output = logged();
    supervisor = new HelperSupervisor<FakeHelper>({
      name: 'test helper',
      whileDown: 'doing without',
      log: output.log,
      start: (onEnd) => {
        const outcome = outcomes.shift() ?? 'ready';
        return outcome === 'ready' ? Promise.resolve(new FakeHelper(onEnd)) : Promise.reject(new Error(outcome));
      },
    });
  });
  afterEach(() => {
    supervisor.stop();
    mock.timers.reset();
  });

  it('rejects when the first helper cannot start', async () => {
    outcomes = ['could not be started'];
    await assert.rejects(supervisor.start(), /could not be started/);
    assert.equal(supervisor.current, null);
  });

  it('logs a loss and starts another after the restart delay, doing without meanwhile', async () => {
    await supervisor.start();
    const first = FakeHelper.started[0];
    first?.end('was killed by SIGKILL (signal 9)');
    assert.equal(supervisor.current, null);
    assert.match(output.text(), /test helper was killed by SIGKILL \(signal 9\); doing without/);
    mock.timers.tick(HELPER_RESTART_DELAY_MS - 1);
    await settle();
    assert.equal(FakeHelper.started.length, 1, 'not before the delay');
    mock.timers.tick(1);
    await settle();
    assert.equal(FakeHelper.started.length, 2);
    assert.equal(supervisor.current, FakeHelper.started[1]);
  });

  it('tries again, one delay later, when a restart fails', async () => {
    await supervisor.start();
    outcomes = ['did not get ready within 10 s'];
    FakeHelper.started[0]?.end('exited with code 1');
    mock.timers.tick(HELPER_RESTART_DELAY_MS);
    await settle();
    assert.match(output.text(), /test helper did not get ready within 10 s; doing without/);
    assert.equal(FakeHelper.started.length, 1);
    mock.timers.tick(HELPER_RESTART_DELAY_MS);
    await settle();
    assert.equal(FakeHelper.started.length, 2);
    assert.equal(supervisor.current, FakeHelper.started[1]);
  });

  it('restarts nothing once stopped, and stops the helper in service', async () => {
    await supervisor.start();
    FakeHelper.started[0]?.end('exited with code 1');
    supervisor.stop();
    mock.timers.tick(HELPER_RESTART_DELAY_MS);
    await settle();
    assert.equal(FakeHelper.started.length, 1, 'the pending restart was cancelled');

    const again = new HelperSupervisor<FakeHelper>({ name: 'h', whileDown: 'w', log: output.log, start: (onEnd) => Promise.resolve(new FakeHelper(onEnd)) });
    await again.start();
    again.stop();
    assert.equal(FakeHelper.started[1]?.stopped, true);
    assert.equal(again.current, null);
  });

  it('counts only the end of the helper in service as a loss', async () => {
    await supervisor.start();
    const ends: Array<(description: string) => void> = [];
    const late = new HelperSupervisor<FakeHelper>({
      name: 'late helper',
      whileDown: 'w',
      log: output.log,
      start: (onEnd) => {
        ends.push(onEnd);
        return Promise.reject(new Error('did not get ready'));
      },
    });
    await assert.rejects(late.start());
    ends[0]?.('was killed by SIGKILL (signal 9)'); // the timed-out start's process ending afterwards
    mock.timers.tick(HELPER_RESTART_DELAY_MS);
    await settle();
    assert.equal(ends.length, 1, 'no restart for a helper that was never in service');
    assert.doesNotMatch(output.text(), /late helper/);
  });
});

describe('describeExit', () => {
  it('says how a process ended, with a hint for a SIGKILL nobody here sent', () => {
    assert.equal(describeExit(3, null), 'exited with code 3');
    assert.equal(describeExit(null, null), 'exited with code unknown');
    assert.equal(describeExit(null, 'SIGSEGV'), 'was killed by SIGSEGV (signal 11)');
    assert.equal(describeExit(null, 'SIGKILL'), 'was killed by SIGKILL (signal 9) (perhaps out of memory)');
    assert.equal(describeExit(null, 'SIGKILL', 'after 30 s stuck'), 'was killed by SIGKILL (signal 9) after 30 s stuck');
  });

  it('names signals by number, and nothing for a number that is none', () => {
    assert.equal(signalName(9), 'SIGKILL');
    assert.equal(signalName(15), 'SIGTERM');
    assert.equal(signalName(0), null);
    assert.equal(signalName(999), null);
  });
});
