import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineList, type Deadlined } from '../../src/app/deadline-list.js';

function entry(name: string, fired: string[], onDeadline?: () => void): Deadlined {
  return {
    deadlineAt: 0,
    deadlinePrev: null,
    deadlineNext: null,
    deadlineLinked: false,
    onDeadline: onDeadline ?? (() => fired.push(name)),
  };
}

describe('DeadlineList', () => {
  it('fires each entry once its timeout has passed, in the order they were added', async () => {
    const fired: string[] = [];
    const list = new DeadlineList(0.05);
    list.add(entry('a', fired));
    await sleep(20);
    list.add(entry('b', fired));
    await sleep(40);
    assert.deepEqual(fired, ['a']);
    await sleep(40);
    assert.deepEqual(fired, ['a', 'b']);
  });

  it('never fires an entry removed in time, at the head, in the middle or at the tail', async () => {
    const fired: string[] = [];
    const list = new DeadlineList(0.03);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => entry(name, fired)) as [Deadlined, Deadlined, Deadlined, Deadlined];
    for (const e of [a, b, c, d]) list.add(e);
    list.remove(a);
    list.remove(c);
    list.remove(d);
    list.remove(d);
    await sleep(60);
    assert.deepEqual(fired, ['b']);
    assert.equal(b.deadlineLinked, false);
  });

  it('restarts the timeout of an entry added again, which may add itself again when it fires', async () => {
    const fired: string[] = [];
    const list = new DeadlineList(0.04);
    let rounds = 0;
    const again: Deadlined = entry('again', fired, () => {
      fired.push('again');
      if (++rounds < 2) list.add(again);
    });
    list.add(again);
    await sleep(25);
    list.add(again);
    await sleep(25);
    assert.deepEqual(fired, []);
    await sleep(120);
    assert.deepEqual(fired, ['again', 'again']);
  });
});
