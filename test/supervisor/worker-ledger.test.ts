import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkerLedger } from '../../src/supervisor/worker-ledger.js';
import type { WorkerProcess } from '../../src/supervisor/worker-process.js';

/** What the ledger reads of a worker, as a WorkerProcess. */
function worker(pid: number, fields: Partial<Record<'stuck' | 'killReason' | 'exitDescription' | 'state' | 'dispatched' | 'inflight', unknown>> = {}): WorkerProcess {
  return { pid, stuck: false, killReason: null, exitDescription: 'exited with code 0', state: 'ready', dispatched: 0, inflight: 0, ...fields } as unknown as WorkerProcess;
}

describe('WorkerLedger', () => {
  it('counts an exit the pool planned under its reason, whatever the process did', () => {
    const ledger = new WorkerLedger();
    for (const [pid, reason] of [[1, 'reload'], [2, 'scale_down'], [3, 'max_requests']] as const) {
      const w = worker(pid);
      ledger.enrol(w);
      ledger.plan(w, reason);
      assert.equal(ledger.settle(w, null, 0, false), reason);
    }
    const { exits, lastExit } = ledger.snapshot([]);
    assert.deepEqual(exits, { exit: 0, crash: 0, timeout: 0, max_requests: 1, memory: 0, lifetime: 0, reload: 1, scale_down: 1 });
    assert.deepEqual([lastExit?.pid, lastExit?.reason], [3, 'max_requests']);
  });

  it('tells an unplanned exit from how it ended', () => {
    const ledger = new WorkerLedger();
    assert.equal(ledger.settle(worker(1), null, 0, false), 'exit');
    assert.equal(ledger.settle(worker(2), null, 1, false), 'crash');
    assert.equal(ledger.settle(worker(3), 'SIGSEGV', null, false), 'crash');
    assert.equal(ledger.settle(worker(4), 'SIGKILL', null, false), 'memory', 'a SIGKILL portico did not send');
    assert.equal(ledger.settle(worker(5, { killReason: 'after its channel was corrupt' }), 'SIGKILL', null, false), 'crash');
    assert.equal(ledger.settle(worker(6, { stuck: true, killReason: 'after a request timed out' }), 'SIGKILL', null, false), 'timeout');
    assert.equal(ledger.settle(worker(7), 'SIGKILL', null, true), 'exit', 'killed as the whole pool stops');
  });

  it('lists live workers with their generation, requests served and age', () => {
    const ledger = new WorkerLedger();
    const first = worker(10, { dispatched: 7, inflight: 2 });
    ledger.enrol(first);
    ledger.generation = 2;
    const second = worker(11, { state: 'booting' });
    ledger.enrol(second);
    const gone = worker(12, { state: 'exited' });
    const { workers, generation } = ledger.snapshot([first, second, gone]);
    assert.equal(generation, 2);
    assert.deepEqual(
      workers.map(({ pid, state, generation, served, inflight }) => ({ pid, state, generation, served, inflight })),
      [
        { pid: 10, state: 'ready', generation: 1, served: 5, inflight: 2 },
        { pid: 11, state: 'booting', generation: 2, served: 0, inflight: 0 },
      ],
    );
    assert.ok(workers.every((w) => Date.now() - w.startedAt < 1000));
  });
});
