/** The pool's queue: order, withdrawal, and how long the oldest has waited. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobQueue } from '../../src/supervisor/job-queue.js';

describe('JobQueue', () => {
  it('keeps jobs in order with the time each began to wait', () => {
    const clock = { now: 1_000 };
    const queue = new JobQueue<string>(() => clock.now);
    assert.equal(queue.oldestWait(), 0, 'none waits');
    queue.push('a');
    clock.now += 100;
    queue.push('b');
    clock.now += 50;
    queue.push('c');
    assert.equal(queue.length, 3);
    assert.equal(queue.oldestWait(), 150);
    queue.withdraw('a');
    assert.equal(queue.oldestWait(), 50, "b's wait once a has gone");
    queue.withdraw('missing');
    assert.equal(queue.shift(), 'b');
    assert.equal(queue.oldestWait(), 0, 'c was queued just now');
    assert.equal(queue.shift(), 'c');
    assert.equal(queue.shift(), undefined);
    assert.equal(queue.length, 0);
  });
});
