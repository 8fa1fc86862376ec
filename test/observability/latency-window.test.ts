import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatencyWindow, WINDOW_SECONDS } from '../../src/observability/latency-window.js';

/** Within the 20% of one bucket. */
function near(actual: number, expected: number): void {
  assert.ok(actual >= expected && actual <= expected * 1.21, `${actual} is not within a bucket above ${expected}`);
}

describe('LatencyWindow', () => {
  it('gives p50 and p99 over the minute, and second by second', () => {
    const window = new LatencyWindow();
    const base = 1_000_000; // ms: second 1000
    for (let i = 0; i < 98; i++) window.record(2, base + 10);
    window.record(100, base + 20);
    window.record(100, base + 1010);
    const summary = window.summarize(base + 2000);
    assert.equal(summary.count, 100);
    near(summary.p50, 2);
    near(summary.p99, 100);
    assert.equal(summary.seconds.length, WINDOW_SECONDS);
    const [first, second] = summary.seconds.slice(-2);
    assert.equal(first?.count, 99);
    near(first?.p50 ?? 0, 2);
    assert.equal(second?.count, 1);
    near(second?.p99 ?? 0, 100);
  });

  it('counts only whole seconds, and forgets a second a minute later', () => {
    const window = new LatencyWindow();
    window.record(5, 500);
    assert.equal(window.summarize(900).count, 0, 'the second under way is not summed');
    assert.equal(window.summarize(1000).count, 1);
    assert.equal(window.summarize(60_999).count, 1);
    assert.equal(window.summarize(61_000).count, 0);
    window.record(5, 61_500); // reuses the row of second 1
    assert.equal(window.summarize(62_000).count, 1);
  });

  it('rates the last ten seconds', () => {
    const window = new LatencyWindow();
    for (let second = 0; second < 30; second++) for (let i = 0; i < 4; i++) window.record(1, second * 1000 + i);
    const summary = window.summarize(30_000);
    assert.equal(summary.rate, 4);
    assert.equal(summary.count, 120);
  });

  it('reports zeros, never negatives, before anything was recorded', () => {
    const summary = new LatencyWindow().summarize(5_000);
    assert.deepEqual([summary.count, summary.rate, summary.p50, summary.p99], [0, 0, 0, 0]);
    assert.ok(summary.seconds.every((s) => s.count === 0));
  });

  it('keeps a duration under the first bound, and one past the last', () => {
    const window = new LatencyWindow();
    window.record(0.001, 1000);
    window.record(1e9, 1000);
    const summary = window.summarize(2000);
    assert.ok(summary.p50 > 0 && summary.p50 <= 0.05);
    assert.ok(summary.p99 > 60_000);
  });
});
