/**
 * The scaler on its own, over a fake pool and a clock moved by hand: up
 * after a queue wait, down after idleness, one step at a time, never out of
 * its bounds; SIGTTIN and SIGTTOU moving the bounds; --workers-max below -w
 * refused by name.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { PoolScaler, SCALE_UP_WAIT_MS, type ScalableWorker, type ScalingHost, type ScalingSettings } from '../../src/supervisor/pool-scaler.js';
import type { WorkerState } from '../../src/supervisor/worker-process.js';

class FakeWorker implements ScalableWorker {
  state: WorkerState = 'booting';
  inflight = 0;
  progressAt = 0;
  constructor(readonly pid: number) {}
}

/**
 * A pool that does at once what the scaler asks: fill() boots workers
 * (left booting until the test readies them), retire() takes one out.
 */
class FakePool implements ScalingHost<FakeWorker> {
  readonly workers: FakeWorker[] = [];
  readonly retired: FakeWorker[] = [];
  readonly lines: string[] = [];
  queueWaitMs = 0;
  isActive = true;
  #nextPid = 100;
  scaler!: PoolScaler<FakeWorker>;

  serving(): readonly FakeWorker[] {
    return this.workers;
  }
  queueWait(): number {
    return this.queueWaitMs;
  }
  fill(): void {
    while (this.workers.length < this.scaler.target) this.workers.push(new FakeWorker(this.#nextPid++));
  }
  retire(worker: FakeWorker): void {
    this.workers.splice(this.workers.indexOf(worker), 1);
    this.retired.push(worker);
  }
  active(): boolean {
    return this.isActive;
  }
  info(message: string): void {
    this.lines.push(message);
  }
  /** Every booting worker says READY. */
  readyAll(): void {
    for (const worker of this.workers) {
      if (worker.state !== 'booting') continue;
      worker.state = 'ready';
      this.scaler.ready(worker);
    }
  }
}

function harness(settings: ScalingSettings) {
  const clock = { now: 10_000 };
  const pool = new FakePool();
  const scaler = new PoolScaler<FakeWorker>(settings, pool, () => clock.now);
  pool.scaler = scaler;
  pool.fill();
  pool.readyAll();
  const inBounds = (): void => {
    const { target, min, max } = scaler.bounds;
    assert.ok(min <= target && target <= max && min >= 1, `target ${target} within ${min}..${max}`);
  };
  return { clock, pool, scaler, inBounds };
}

describe('PoolScaler: up on queueing', () => {
  it('adds a worker once a request has waited past the window, one at a time, up to --workers-max', () => {
    const { clock, pool, scaler, inBounds } = harness({ workers: 1, workersMax: 3, workersIdleTimeout: 5 });
    pool.queueWaitMs = SCALE_UP_WAIT_MS - 1;
    scaler.checkQueue();
    assert.equal(scaler.target, 1, 'a wait within the window is no reason');
    pool.queueWaitMs = SCALE_UP_WAIT_MS;
    scaler.checkQueue();
    assert.equal(scaler.target, 2);
    assert.equal(pool.workers.length, 2);
    assert.match(pool.lines.at(-1) ?? '', /^scaling up to 2 workers \(of 1\.\.3\): a request waited 200 ms in the queue$/);
    clock.now += 1_000;
    scaler.checkQueue();
    assert.equal(scaler.target, 2, 'not another while one boots');
    pool.readyAll();
    assert.equal(scaler.target, 3, 'its READY, with the queue still waiting, brings the next');
    pool.readyAll();
    scaler.checkQueue();
    assert.equal(scaler.target, 3, 'never past --workers-max');
    inBounds();
  });

  it('does nothing when the queue is empty, the pool is stopping, or there is no --workers-max', () => {
    const empty = harness({ workers: 1, workersMax: 3 });
    empty.scaler.checkQueue();
    assert.equal(empty.scaler.target, 1);

    const stopping = harness({ workers: 1, workersMax: 3 });
    stopping.pool.isActive = false;
    stopping.pool.queueWaitMs = 10_000;
    stopping.scaler.checkQueue();
    assert.equal(stopping.scaler.target, 1);

    const fixed = harness({ workers: 2 });
    fixed.pool.queueWaitMs = 10_000;
    fixed.scaler.queued();
    fixed.pool.readyAll();
    fixed.scaler.checkQueue();
    assert.equal(fixed.scaler.target, 2);
    assert.deepEqual(fixed.scaler.bounds, { target: 2, min: 2, max: 2 });
  });

  it('arms its own check when a request is queued, and adds a worker when the wait is over the window', async () => {
    const clock = { now: 0 };
    const pool = new FakePool();
    const scaler = new PoolScaler<FakeWorker>({ workers: 1, workersMax: 2 }, pool, () => clock.now);
    pool.scaler = scaler;
    pool.fill();
    pool.readyAll();
    pool.queueWaitMs = 1;
    scaler.queued();
    pool.queueWaitMs = SCALE_UP_WAIT_MS + 5;
    await new Promise((resolve) => setTimeout(resolve, SCALE_UP_WAIT_MS + 50));
    assert.equal(scaler.target, 2);
    scaler.stop();
  });
});

describe('PoolScaler: down on idleness', () => {
  /** A pool scaled up to 3 of 1..3, every worker ready and busy at `clock.now`. */
  function scaledUp(idle = 5) {
    const h = harness({ workers: 1, workersMax: 3, workersIdleTimeout: idle });
    h.pool.queueWaitMs = SCALE_UP_WAIT_MS;
    h.scaler.checkQueue();
    h.pool.readyAll();
    h.pool.readyAll();
    h.pool.queueWaitMs = 0;
    assert.equal(h.scaler.target, 3);
    for (const worker of h.pool.workers) worker.progressAt = h.clock.now;
    return h;
  }

  it('retires the worker idle longest after the idle timeout, then one per timeout, down to -w', () => {
    const { clock, pool, scaler, inBounds } = scaledUp();
    const [first, second, third] = pool.workers as [FakeWorker, FakeWorker, FakeWorker];
    first.inflight = 1;
    second.progressAt = clock.now + 1_000;
    clock.now += 4_999;
    scaler.checkIdle();
    assert.equal(scaler.target, 3, 'not idle long enough');
    clock.now += 1;
    scaler.checkIdle();
    assert.equal(scaler.target, 2);
    assert.deepEqual(pool.retired, [third], 'the one idle longest');
    assert.match(pool.lines.at(-1) ?? '', new RegExp(`^scaling down to 2 workers \\(of 1\\.\\.3\\): worker ${third.pid} was idle for 5 s$`));
    clock.now += 4_999;
    scaler.checkIdle();
    assert.equal(scaler.target, 2, 'one step per idle timeout');
    clock.now += 1;
    scaler.checkIdle();
    assert.deepEqual(pool.retired, [third, second], 'the busy one stays');
    clock.now += 60_000;
    first.inflight = 0;
    scaler.checkIdle();
    scaler.checkIdle();
    assert.equal(scaler.target, 1, 'never below -w');
    assert.deepEqual(pool.retired, [third, second]);
    inBounds();
  });

  it('never retires a worker that holds something, however long', () => {
    const { clock, pool, scaler } = scaledUp(1);
    for (const worker of pool.workers) worker.inflight = 1;
    for (let i = 0; i < 10; i++) {
      clock.now += 5_000;
      scaler.checkIdle();
    }
    assert.equal(scaler.target, 3);
    assert.deepEqual(pool.retired, []);
  });

  it('counts idleness from the last sample that saw it busy (a long stream ending says nothing of its pace)', () => {
    const { clock, pool, scaler } = scaledUp(5);
    for (const worker of pool.workers) worker.inflight = 1;
    clock.now += 60_000;
    scaler.checkIdle();
    for (const worker of pool.workers) worker.inflight = 0;
    clock.now += 4_000;
    scaler.checkIdle();
    assert.equal(scaler.target, 3, 'idle 4 s since last seen busy, though its last request ended a minute ago');
    clock.now += 1_000;
    scaler.checkIdle();
    assert.equal(scaler.target, 2);
  });

  it('waits while more or fewer workers serve than the target (a reload, a respawn)', () => {
    const { clock, pool, scaler } = scaledUp(1);
    pool.workers.push(Object.assign(new FakeWorker(999), { state: 'booting' as WorkerState }));
    clock.now += 10_000;
    scaler.checkIdle();
    assert.equal(scaler.target, 3);
    pool.workers.pop();
    scaler.checkIdle();
    assert.equal(scaler.target, 2);
  });

  it('holds off a whole idle timeout after scaling up', () => {
    const { clock, pool, scaler } = harness({ workers: 1, workersMax: 2, workersIdleTimeout: 5 });
    clock.now += 60_000;
    pool.queueWaitMs = SCALE_UP_WAIT_MS;
    scaler.checkQueue();
    pool.queueWaitMs = 0;
    pool.readyAll();
    clock.now += 4_000;
    // The first worker has been idle for a minute, but the pool scaled up 4 s ago.
    scaler.checkIdle();
    assert.equal(scaler.target, 2);
    clock.now += 1_000;
    scaler.checkIdle();
    assert.equal(scaler.target, 1);
  });
});

describe('PoolScaler: SIGTTIN and SIGTTOU', () => {
  it('TTIN adds a worker within the bounds, and past the upper bound raises it', () => {
    const { pool, scaler, inBounds } = harness({ workers: 2, workersMax: 3 });
    scaler.grow();
    assert.deepEqual(scaler.bounds, { target: 3, min: 2, max: 3 });
    assert.equal(pool.workers.length, 3);
    scaler.grow();
    assert.deepEqual(scaler.bounds, { target: 4, min: 2, max: 4 });
    assert.equal(pool.workers.length, 4);
    inBounds();
  });

  it('TTOU retires the oldest worker within the bounds, below the lower bound lowers it, and never goes below 1', () => {
    const { pool, scaler, inBounds } = harness({ workers: 2, workersMax: 4 });
    const oldest = pool.workers[0];
    scaler.shrink();
    assert.deepEqual(scaler.bounds, { target: 1, min: 1, max: 4 });
    assert.deepEqual(pool.retired, [oldest]);
    scaler.shrink();
    assert.deepEqual(scaler.bounds, { target: 1, min: 1, max: 4 });
    assert.equal(pool.retired.length, 1);
    inBounds();
  });

  it('TTOU above the lower bound leaves it', () => {
    const { pool, scaler } = harness({ workers: 1, workersMax: 4 });
    scaler.grow();
    scaler.grow();
    scaler.shrink();
    assert.deepEqual(scaler.bounds, { target: 2, min: 1, max: 4 });
    assert.equal(pool.workers.length, 2);
  });

  it('without --workers-max, moves the fixed count, both bounds with it, as gunicorn does', () => {
    const { pool, scaler } = harness({ workers: 2 });
    scaler.grow();
    assert.deepEqual(scaler.bounds, { target: 3, min: 3, max: 3 });
    scaler.shrink();
    scaler.shrink();
    assert.deepEqual(scaler.bounds, { target: 1, min: 1, max: 1 });
    scaler.shrink();
    assert.deepEqual(scaler.bounds, { target: 1, min: 1, max: 1 });
    assert.equal(pool.workers.length, 1);
    assert.deepEqual(pool.lines, ['SIGTTIN: 3 workers', 'SIGTTOU: 2 workers', 'SIGTTOU: 1 worker', 'SIGTTOU: 1 worker already, the fewest']);
  });

  it('after TTIN the scaler may take the extra worker back when it idles, never below the lower bound', () => {
    const { clock, pool, scaler } = harness({ workers: 1, workersMax: 2, workersIdleTimeout: 1 });
    scaler.grow();
    scaler.grow();
    pool.readyAll();
    assert.deepEqual(scaler.bounds, { target: 3, min: 1, max: 3 });
    for (let i = 0; i < 10; i++) {
      clock.now += 1_000;
      scaler.checkIdle();
    }
    assert.deepEqual(scaler.bounds, { target: 1, min: 1, max: 3 });
  });
});

describe('PoolScaler: settings', () => {
  it('refuses --workers-max below -w, naming it', () => {
    const pool = new FakePool();
    assert.throws(() => new PoolScaler({ workers: 4, workersMax: 2 }, pool), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, '--workers-max: expected at least --workers (4), got 2');
      return true;
    });
  });

  it('takes --workers-max equal to -w, or 0, as a fixed count', () => {
    for (const workersMax of [0, 3]) {
      const { scaler } = harness({ workers: 3, workersMax });
      assert.deepEqual(scaler.bounds, { target: 3, min: 3, max: 3 });
    }
  });
});
