import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isMessage, RELAYED_SIGNALS, type FromFront } from '../../src/supervisor/front-messages.js';

describe('front messages', () => {
  it('tells the kinds asked for from anything else on the channel (cluster passes its own messages on it too)', () => {
    assert.ok(isMessage<FromFront>({ kind: 'ready', urls: [], workers: 1 }, ['ready', 'stopping']));
    assert.ok(!isMessage<FromFront>({ kind: 'reloaded' }, ['ready', 'stopping']));
    for (const other of [null, undefined, 'ready', 3, { cmd: 'NODE_CLUSTER' }, { kind: 7 }]) assert.ok(!isMessage<FromFront>(other, ['ready']));
  });

  it('relays every lifecycle signal the arbiter acts on', () => {
    assert.deepEqual([...RELAYED_SIGNALS].sort(), ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGTTIN', 'SIGTTOU']);
  });
});
