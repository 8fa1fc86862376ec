/** The pool's respawn backoff on its own. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { respawnDelay } from '../../src/supervisor/respawn-backoff.js';

describe('respawnDelay', () => {
  it('replaces a first young death at once, then doubles from 100 ms, and never waits more than 10 s', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map(respawnDelay), [0, 0, 100, 200, 400, 800, 1600]);
    assert.equal(respawnDelay(8), 6400);
    assert.equal(respawnDelay(9), 10_000);
    assert.equal(respawnDelay(50), 10_000);
  });
});
