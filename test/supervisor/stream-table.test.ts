import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamTable } from '../../src/supervisor/stream-table.js';

describe('StreamTable', () => {
  it('hands out ids in sequence and finds, counts and drops what it holds', () => {
    const table = new StreamTable<string>();
    assert.deepEqual([table.add('a'), table.add('b'), table.add('c')], [1, 2, 3]);
    assert.equal(table.size, 3);
    assert.equal(table.get(2), 'b');
    table.delete(2);
    table.delete(2);
    assert.equal(table.size, 2);
    assert.equal(table.has(2), false);
    assert.equal(table.get(2), undefined);
    assert.equal(table.has(3), true);
    assert.deepEqual(table.ids(), [1, 3]);
  });

  it('wraps from 2^32-1 to 1, skipping the channel id 0, and still lists the oldest first', () => {
    const table = new StreamTable<string>(0xfffffffe);
    const ids = ['a', 'b', 'c', 'd'].map((value) => table.add(value));
    assert.deepEqual(ids, [0xfffffffe, 0xffffffff, 1, 2]);
    table.delete(0xffffffff);
    assert.deepEqual(table.ids(), [0xfffffffe, 1, 2]);
    assert.deepEqual(table.clear(), ['a', 'c', 'd']);
    assert.equal(table.size, 0);
    assert.deepEqual(table.ids(), []);
    assert.equal(table.add('e'), 3);
  });
});
