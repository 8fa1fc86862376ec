/**
 * What is read once per TLS connection (tls-facts.ts) is read once, kept
 * with that connection alone, and gives the peer the scheme TLS implies.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { perConnection, tlsPeer } from '../../src/http/tls-facts.js';

function fakeSocket(remoteAddress: string, remotePort: number): TLSSocket {
  return { remoteAddress, remotePort } as unknown as TLSSocket;
}

describe('perConnection', () => {
  it('reads a connection once, however many requests ask', () => {
    let reads = 0;
    const address = perConnection((socket) => {
      reads += 1;
      return socket.remoteAddress;
    });
    const socket = fakeSocket('192.0.2.1', 5000);
    assert.equal(address(socket), '192.0.2.1');
    assert.equal(address(socket), '192.0.2.1');
    assert.equal(reads, 1);
  });

  it('keeps each connection its own answer, and each memo its own slot', () => {
    const address = perConnection((socket) => socket.remoteAddress);
    const port = perConnection((socket) => socket.remotePort);
    const first = fakeSocket('192.0.2.1', 5000);
    const second = fakeSocket('198.51.100.7', 6000);
    assert.equal(address(first), '192.0.2.1');
    assert.equal(address(second), '198.51.100.7');
    assert.equal(port(first), 5000);
    assert.equal(address(first), '192.0.2.1');
  });
});

describe('tlsPeer', () => {
  it("gives the socket's address and port, with the scheme TLS implies", () => {
    assert.deepEqual(tlsPeer(fakeSocket('192.0.2.1', 5000)), { address: '192.0.2.1', port: 5000, tls: true });
  });
});
