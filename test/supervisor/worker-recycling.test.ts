/** The recycling policy on its own, with fake workers, memory and clock: when a healthy worker is to be replaced, and why. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MEMORY_SAMPLES, WorkerRecycler, type RecycleReason, type RecyclableWorker, type RecyclingSettings } from '../../src/supervisor/worker-recycling.js';
import type { WorkerState } from '../../src/supervisor/worker-process.js';

const MIB = 1024 * 1024;

class FakeWorker implements RecyclableWorker {
  state: WorkerState = 'ready';
  dispatched = 0;
  constructor(readonly pid: number) {}
}

/** A recycler over fake probes: RSS by pid, a clock moved by hand, and a fixed "random". */
function harness(settings: Partial<RecyclingSettings>, random = 0) {
  const rss = new Map<number, number | null>();
  const clock = { now: 1_000_000 };
  const replaced: Array<{ pid: number; reason: RecycleReason; why: string }> = [];
  const recycler = new WorkerRecycler<FakeWorker>(
    { maxRequests: 0, maxRequestsJitter: 0, ...settings },
    (worker, reason, why) => replaced.push({ pid: worker.pid, reason, why }),
    { rss: async (pid) => rss.get(pid) ?? null, now: () => clock.now, random: () => random },
  );
  return { recycler, rss, clock, replaced };
}

describe('WorkerRecycler: --max-worker-memory', () => {
  it(`replaces a worker over the limit in ${MEMORY_SAMPLES} samples in a row, and says so`, async () => {
    const { recycler, rss, replaced } = harness({ maxWorkerMemory: 100 });
    const fat = new FakeWorker(1);
    const lean = new FakeWorker(2);
    recycler.watch(fat);
    recycler.watch(lean);
    rss.set(1, 150 * MIB);
    rss.set(2, 50 * MIB);
    await recycler.sample();
    await recycler.sample();
    assert.equal(replaced.length, 0, 'two samples over are not enough');
    await recycler.sample();
    assert.equal(replaced.length, 1);
    assert.deepEqual([replaced[0]?.pid, replaced[0]?.reason], [1, 'memory']);
    assert.match(replaced[0]?.why ?? '', /has 150 MiB resident, over --max-worker-memory 100 MiB in 3 samples 1 s apart/);
    await recycler.sample();
    assert.equal(replaced.length, 1, 'asked once: its replacement is under way');
  });

  it('forgives a peak: a sample under the limit starts the count again', async () => {
    const { recycler, rss, replaced } = harness({ maxWorkerMemory: 100 });
    recycler.watch(new FakeWorker(1));
    for (const mib of [101, 120, 99, 130, 140]) {
      rss.set(1, mib * MIB);
      await recycler.sample();
    }
    assert.equal(replaced.length, 0);
    rss.set(1, 101 * MIB);
    await recycler.sample();
    assert.deepEqual(replaced.map((r) => r.reason), ['memory']);
  });

  it('counts exactly the limit as within it, and an unreadable sample as nothing', async () => {
    const { recycler, rss, replaced } = harness({ maxWorkerMemory: 64 });
    recycler.watch(new FakeWorker(1));
    rss.set(1, 64 * MIB);
    for (let i = 0; i < 5; i++) await recycler.sample();
    assert.equal(replaced.length, 0);
    rss.set(1, 65 * MIB);
    await recycler.sample();
    await recycler.sample();
    rss.set(1, null);
    await recycler.sample();
    assert.equal(replaced.length, 0, 'a sample that could not be read neither counts nor resets');
    rss.set(1, 65 * MIB);
    await recycler.sample();
    assert.deepEqual(replaced.map((r) => r.pid), [1]);
  });

  it('samples only ready workers it watches', async () => {
    const { recycler, rss, replaced } = harness({ maxWorkerMemory: 10 });
    const stopping = new FakeWorker(1);
    const forgotten = new FakeWorker(2);
    recycler.watch(stopping);
    recycler.watch(forgotten);
    stopping.state = 'stopping';
    recycler.forget(forgotten);
    rss.set(1, 500 * MIB);
    rss.set(2, 500 * MIB);
    for (let i = 0; i < 5; i++) await recycler.sample();
    assert.equal(replaced.length, 0);
  });

  it('watches a worker whose replacement failed again, from zero samples', async () => {
    const { recycler, rss, replaced } = harness({ maxWorkerMemory: 10 });
    const worker = new FakeWorker(1);
    recycler.watch(worker);
    rss.set(1, 50 * MIB);
    for (let i = 0; i < 3; i++) await recycler.sample();
    assert.equal(replaced.length, 1);
    assert.match(recycler.rewatch(worker, 'memory'), /another 3 samples/);
    await recycler.sample();
    await recycler.sample();
    assert.equal(replaced.length, 1);
    await recycler.sample();
    assert.equal(replaced.length, 2);
  });
});

describe('WorkerRecycler: --max-worker-lifetime', () => {
  it('replaces a worker once it has run its lifetime', async () => {
    const { recycler, clock, replaced } = harness({ maxWorkerLifetime: 2 });
    recycler.watch(new FakeWorker(1));
    clock.now += 1_999;
    await recycler.sample();
    assert.equal(replaced.length, 0);
    clock.now += 1;
    await recycler.sample();
    assert.deepEqual(replaced.map((r) => [r.pid, r.reason, r.why]), [[1, 'lifetime', 'has run for 2 s, its --max-worker-lifetime']]);
    clock.now += 10_000;
    await recycler.sample();
    assert.equal(replaced.length, 1, 'asked once');
  });

  it('adds 0..jitter seconds to each lifetime', async () => {
    // random() = 0.5 with --max-worker-lifetime 10 and a jitter of 4: 12 s.
    const { recycler, clock, replaced } = harness({ maxWorkerLifetime: 10, maxWorkerLifetimeJitter: 4 }, 0.5);
    recycler.watch(new FakeWorker(1));
    clock.now += 11_999;
    await recycler.sample();
    assert.equal(replaced.length, 0);
    clock.now += 1;
    await recycler.sample();
    assert.deepEqual(replaced.map((r) => r.why), ['has run for 12 s, its --max-worker-lifetime']);
  });

  it('spreads lifetimes over the whole jitter, never past it', async () => {
    for (const [random, expected] of [[0, 3_000], [0.25, 3_500], [0.999, 4_998]] as const) {
      const { recycler, clock, replaced } = harness({ maxWorkerLifetime: 3, maxWorkerLifetimeJitter: 2 }, random);
      recycler.watch(new FakeWorker(1));
      clock.now += expected - 1;
      await recycler.sample();
      assert.equal(replaced.length, 0, `random ${random}: not before ${expected} ms`);
      clock.now += 1;
      await recycler.sample();
      assert.equal(replaced.length, 1, `random ${random}: at ${expected} ms`);
    }
  });

  it('gives a worker whose replacement failed another lifetime from now', async () => {
    const { recycler, clock, replaced } = harness({ maxWorkerLifetime: 5 });
    const worker = new FakeWorker(1);
    recycler.watch(worker);
    clock.now += 5_000;
    await recycler.sample();
    clock.now += 3_000;
    assert.equal(recycler.rewatch(worker, 'lifetime'), 'after another 5 s');
    clock.now += 4_999;
    await recycler.sample();
    assert.equal(replaced.length, 1);
    clock.now += 1;
    await recycler.sample();
    assert.equal(replaced.length, 2);
  });
});

describe('WorkerRecycler: --max-requests', () => {
  it('replaces a worker given its quota plus jitter, once', () => {
    // random() = 0.5 with a jitter of 4: floor(0.5 * 5) = 2 more.
    const { recycler, replaced } = harness({ maxRequests: 10, maxRequestsJitter: 4 }, 0.5);
    const worker = new FakeWorker(1);
    recycler.watch(worker);
    for (worker.dispatched = 1; worker.dispatched <= 11; worker.dispatched++) recycler.counted(worker);
    assert.equal(replaced.length, 0);
    worker.dispatched = 12;
    recycler.counted(worker);
    assert.deepEqual(replaced.map((r) => [r.reason, r.why]), [['max_requests', 'served its 12 requests']]);
    worker.dispatched = 13;
    recycler.counted(worker);
    assert.equal(replaced.length, 1);
    assert.equal(recycler.rewatch(worker, 'max_requests'), 'after another 12 requests');
    worker.dispatched = 24;
    recycler.counted(worker);
    assert.equal(replaced.length, 1);
    worker.dispatched = 25;
    recycler.counted(worker);
    assert.equal(replaced.length, 2);
  });

  it('keeps the other limits where they were when one is rewatched', async () => {
    const { recycler, clock, replaced } = harness({ maxRequests: 2, maxWorkerLifetime: 10 });
    const worker = new FakeWorker(1);
    recycler.watch(worker);
    worker.dispatched = 2;
    recycler.counted(worker);
    clock.now += 9_000;
    recycler.rewatch(worker, 'max_requests');
    clock.now += 1_000;
    await recycler.sample();
    assert.deepEqual(replaced.map((r) => r.reason), ['max_requests', 'lifetime'], 'the lifetime still counts from the worker\'s start');
  });

  it('never replaces anyone with every limit off, and runs no timer', async () => {
    const { recycler, replaced } = harness({});
    const worker = new FakeWorker(1);
    recycler.watch(worker);
    worker.dispatched = 1_000_000;
    recycler.counted(worker);
    await recycler.sample();
    recycler.start();
    recycler.stop();
    assert.equal(replaced.length, 0);
  });
});
