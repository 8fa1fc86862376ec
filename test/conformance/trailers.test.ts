/**
 * Trailer fields RFC 9110 §6.5.1 forbids, on a body too large for the
 * corpus's limits: past BODY_PREFETCH the request is already on a worker
 * and the application is reading the body when the trailers arrive. The
 * body must then end as aborted, so that the application never finishes
 * the request as a valid one, and the client gets 400 with the connection
 * closed. The corpus (invalid/*-trailer-*) covers small bodies, refused
 * before any worker sees them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BODY_PREFETCH } from '../../src/app/request-body-pump.js';
import { header } from '../helpers/raw-response.js';
import { startEchoServer, type EchoServer } from './conformance-server.js';
import { exchange } from './raw-exchange.js';

/** A chunked POST of `size` bytes of body in 16 KiB chunks, ending with `trailers`. */
function chunkedPost(path: string, size: number, trailers: string[]): Buffer {
  let body = '';
  for (let sent = 0; sent < size; sent += 16384) {
    const length = Math.min(16384, size - sent);
    body += `${length.toString(16)}\r\n${'t'.repeat(length)}\r\n`;
  }
  const head = `POST ${path} HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: chunked\r\n\r\n`;
  return Buffer.from(`${head}${body}0\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`, 'latin1');
}

describe('forbidden trailer fields after a body already on its way to the app', { timeout: 60_000 }, () => {
  let server: EchoServer;
  before(async () => {
    server = await startEchoServer();
  });
  after(async () => {
    await server?.stop();
  });

  for (const trailer of ['Host: evil.example', 'Content-Length: 5', 'Transfer-Encoding: chunked']) {
    const name = trailer.split(':')[0] as string;
    it(`answers 400 and the app never completes the request (${name})`, async () => {
      const path = `/trailer-${name.toLowerCase()}`;
      const result = await exchange(server.portico.port, [chunkedPost(path, 4 * BODY_PREFETCH, [trailer])], (finals, closed) => finals.length >= 1 && closed);
      assert.deepEqual(result.finals.map((r) => r.status), [400]);
      assert.equal(header(result.finals[0]!, 'connection')?.toLowerCase(), 'close');
      assert.equal(result.closed, true);
      await server.quiesce();
      const seen = server.requests().filter((r) => r.uri === path);
      assert.ok(seen.length <= 1, `seen ${JSON.stringify(seen)}`);
      for (const request of seen) assert.equal(request.completed, false, 'the app read the body to a clean end');
      assert.match(server.portico.logs(), /PORTICO_ERR_FORBIDDEN_TRAILER/);
    });
  }

  it('serves the same body with an ordinary trailer field', async () => {
    const path = '/trailer-ordinary';
    const result = await exchange(server.portico.port, [chunkedPost(path, 4 * BODY_PREFETCH, ['X-Checksum: 1'])], (finals) => finals.length >= 1);
    assert.deepEqual(result.finals.map((r) => r.status), [200]);
    const echoed = JSON.parse(result.finals[0]!.body.toString('latin1')) as { body: string };
    assert.equal(echoed.body.length, 4 * BODY_PREFETCH);
    await server.quiesce();
    assert.equal(server.requests().find((r) => r.uri === path)?.completed, true);
  });
});
