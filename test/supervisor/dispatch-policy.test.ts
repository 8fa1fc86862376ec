/**
 * The dispatch policy on its own, over stand-in workers and a clock the test
 * sets: idle workers first, pipelining onto workers that keep finishing
 * requests, never onto one stuck in a long request.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PIPELINE_PER_THREAD, PIPELINE_WAIT_MS, connectionCapacity, pickWorker, threadCapacity } from '../../src/supervisor/dispatch-policy.js';
import type { WorkerState } from '../../src/supervisor/worker-process.js';

const NOW = 10_000;
const clock = (): number => NOW;

/** A stand-in worker; mutable, so that a test can let it finish a request. */
interface Stand {
  name: string;
  state: WorkerState;
  inflight: number;
  longLived: number;
  progressAt: number;
  pace: number;
}

/** A worker holding `inflight` requests that last finished one (or went busy) `sinceMs` ago, at `pace` ms a request. */
function worker(name: string, inflight: number, sinceMs = 0, pace = 0.05, state: WorkerState = 'ready'): Stand {
  return { name, inflight, longLived: 0, progressAt: NOW - sinceMs, pace, state };
}

const pick = (workers: Stand[], threads = 1): string | undefined => pickWorker(workers, threadCapacity(threads), clock)?.name;

describe('pickWorker', () => {
  it('gives a request to an idle worker before any busy one', () => {
    assert.equal(pick([worker('busy', 1), worker('idle', 0), worker('busier', 3)]), 'idle');
  });

  it('with threads, prefers the least busy worker that has a free thread, whatever its pace', () => {
    assert.equal(pick([worker('a', 3, 1_000, 500), worker('b', 2, 1_000, 500)], 4), 'b');
  });

  it('pipelines onto busy workers that keep finishing requests: the throughput case', () => {
    assert.equal(pick([worker('a', 9, 0.2), worker('b', 5, 0.1)]), 'b');
    assert.equal(pick([worker('a', PIPELINE_PER_THREAD - 1, 0.2)]), 'a');
  });

  it('never holds more than the pipeline depth', () => {
    assert.equal(pick([worker('full', PIPELINE_PER_THREAD)]), undefined);
    assert.equal(pick([worker('full', 2 * PIPELINE_PER_THREAD)], 2), undefined);
  });

  it('queues the request rather than put it behind a request running longer than the bound (the -w 2 probe)', () => {
    const longRunning = worker('long', 1, 4_600);
    const shorter = worker('short', 1, 300);
    assert.equal(pick([longRunning, shorter]), undefined, 'both are in long requests: wait in the pool');
    shorter.inflight = 0;
    shorter.progressAt = NOW;
    assert.equal(pick([longRunning, shorter]), 'short', 'the first worker to free up takes it');
  });

  it('skips a stalled worker for a busier one that is making progress', () => {
    assert.equal(pick([worker('stalled', 1, 50), worker('flowing', 4, 0.1)]), 'flowing');
  });

  it('pipelines only as deep as the worker can work through within the bound, at its pace', () => {
    const pace = PIPELINE_WAIT_MS / 4;
    // Three waiting and one running ahead of it: its turn comes after 4 × pace, the bound.
    assert.equal(pick([worker('w', 4, 0, pace)]), 'w');
    assert.equal(pick([worker('w', 5, 0, pace)]), undefined);
  });

  it('gives nothing more to a worker that has finished nothing for longer than the bound, however quick its pace', () => {
    assert.equal(pick([worker('w', 1, PIPELINE_WAIT_MS / 2, 0.05)]), 'w');
    assert.equal(pick([worker('w', 1, PIPELINE_WAIT_MS * 2, 0.05)]), undefined);
  });

  it('passes over workers that are booting or stopping', () => {
    assert.equal(pick([worker('booting', 0, 0, 0, 'booting'), worker('stopping', 0, 0, 0, 'stopping'), worker('ready', 2)]), 'ready');
  });

  it('reads the clock only when a request would have to wait', () => {
    let reads = 0;
    const counting = (): number => {
      reads++;
      return NOW;
    };
    pickWorker([worker('idle', 0), worker('busy', 1)], threadCapacity(1), counting);
    pickWorker([worker('a', 1), worker('b', 2)], threadCapacity(4), counting);
    assert.equal(reads, 0);
    pickWorker([worker('a', 1), worker('b', 2)], threadCapacity(1), counting);
    assert.equal(reads, 1, 'once per decision, not per worker');
  });
});

describe('pickWorker: asyncio workers and long-lived streams', () => {
  it('runs up to --worker-connections at once on one worker, and holds no more', () => {
    const capacity = connectionCapacity(1000);
    // A worker deep in slow awaits has finished nothing for a while, yet has free slots: it still gets requests.
    assert.equal(pickWorker([worker('w', 999, 10_000)], capacity, clock)?.name, 'w');
    assert.equal(pickWorker([worker('w', 1000, 0)], capacity, clock), undefined);
  });

  it('prefers the least loaded worker, counting its open streams', () => {
    const capacity = connectionCapacity(100);
    const sessions = { ...worker('sessions', 40, 60_000), longLived: 40 };
    assert.equal(pickWorker([sessions, worker('requests', 3)], capacity, clock)?.name, 'requests');
  });

  it('never takes a worker whose open streams hold every slot for stuck, and never queues behind them', () => {
    const full = { ...worker('ws', 2, 60_000), longLived: 2 };
    assert.equal(pickWorker([full], threadCapacity(2), clock), undefined, 'no slot frees until a client leaves');
    const oneSession = { ...worker('ws', 1, 60_000), longLived: 1 };
    assert.equal(pickWorker([oneSession], threadCapacity(2), clock)?.name, 'ws', 'a free slot beside a session is a free slot');
  });
});

