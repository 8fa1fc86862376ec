import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTogether } from './portico.js';

function fakeServer(name: string, stopped: string[]): { name: string; stop(): Promise<void> } {
  return { name, stop: async () => void stopped.push(name) };
}

describe('startTogether', () => {
  it('gives every server, in order, when all start', async () => {
    const stopped: string[] = [];
    const [a, b] = await startTogether([Promise.resolve(fakeServer('a', stopped)), Promise.resolve(fakeServer('b', stopped))]);
    assert.deepEqual([a.name, b.name], ['a', 'b']);
    assert.deepEqual(stopped, []);
  });

  it('stops the servers that started when one fails, and throws its error', async () => {
    const stopped: string[] = [];
    const failure = new Error('no port');
    await assert.rejects(
      startTogether([Promise.resolve(fakeServer('a', stopped)), Promise.reject(failure), Promise.resolve(fakeServer('c', stopped))]),
      (error) => error === failure,
    );
    assert.deepEqual(stopped.sort(), ['a', 'c']);
  });
});
