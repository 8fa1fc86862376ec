/**
 * The front's heap ballast (src/heap-ballast.ts). What it is for, fewer full
 * collections under large responses, is a performance matter and is measured
 * in the benchmark analysis (docs/benchmarks/analysis.md, "The front's heap
 * and V8's full collections"), not asserted here: how often V8 collects
 * depends on how loaded the machine is.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import v8 from 'node:v8';
import { HEAP_BALLAST_BYTES, heapBallastBytes, holdHeapBallast } from '../src/heap-ballast.js';

const MiB = 1024 * 1024;

describe('holdHeapBallast', () => {
  it('holds 16 MiB of the V8 heap, allocated once however often it is asked', () => {
    assert.equal(heapBallastBytes(), 0);
    const before = v8.getHeapStatistics().used_heap_size;
    holdHeapBallast();
    const held = v8.getHeapStatistics().used_heap_size;
    assert.equal(heapBallastBytes(), HEAP_BALLAST_BYTES);
    assert.equal(HEAP_BALLAST_BYTES, 16 * MiB);
    assert.ok(held - before >= HEAP_BALLAST_BYTES, `the heap grew by ${(held - before) / MiB} MiB`);
    holdHeapBallast();
    assert.ok(v8.getHeapStatistics().used_heap_size - held < MiB, 'a second call allocates nothing');
    assert.equal(heapBallastBytes(), HEAP_BALLAST_BYTES);
  });
});
