/**
 * A script's body is held to its Content-Length (RFC 9112 §6.3) by the
 * rule WSGI applications are held to (src/http/response-length.ts): more
 * than declared, and the client gets the declared bytes and then the close;
 * less, and the connection is cut. Run for both ways of starting scripts.
 */
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../helpers/http-client.js';
import { SYSTEM_PYTHON } from '../helpers/paths.js';
import { RawConnection, exchangeRaw, rawRequest } from '../helpers/raw-connection.js';
import { header, splitHead } from '../helpers/raw-response.js';
import { prepareCgiRoot, request, startCgiServer, type CgiRoot, type CgiServer } from './cgi-test-server.js';

const FIXTURES = ['long-body.sh', 'long-body-endless.sh', 'exact-body.sh'];

for (const python of [SYSTEM_PYTHON, null]) {
  const launcher = python === null ? 'child_process.spawn' : 'spawner';

  describe(`CgiHandler (${launcher}): the body is held to the script's Content-Length`, { timeout: 30_000 }, () => {
    let cgi: CgiRoot;
    let server: CgiServer;

    before(async () => {
      cgi = prepareCgiRoot();
      for (const name of FIXTURES) chmodSync(join(cgi.root, name), 0o755);
      server = await startCgiServer(cgi.root, { python });
    });
    after(async () => {
      await server.close();
      cgi.remove();
    });

    it('sends the declared bytes of a longer body, then closes the connection, and logs which script', async () => {
      // A second request pipelined behind it: were the connection kept alive, it would be answered.
      const { received, closed } = await exchangeRaw(server.port, rawRequest('GET', '/cgi-bin/long-body.sh') + rawRequest('GET', '/cgi-bin/hello.sh'));
      assert.ok(closed, 'connection closed');
      const split = splitHead(received);
      assert.ok(split !== null, 'a response head arrived');
      assert.match(split.head, /^HTTP\/1\.1 200/);
      assert.match(split.head, /\r\ncontent-length: 5(\r\n|$)/i);
      assert.equal(split.afterHead.toString('latin1'), 'hello', 'exactly the declared bytes, and no response to the pipelined request');
      await eventually(
        'the overrun logged',
        () => (/CGI script '[^']*long-body\.sh' wrote more than its Content-Length of 5; truncated it and closed the connection/.test(server.logs()) ? true : undefined),
        5_000,
        20,
      );
    });

    it('closes the connection without waiting for the script to end', async () => {
      const started = Date.now();
      const { received, closed } = await exchangeRaw(server.port, rawRequest('GET', '/cgi-bin/long-body-endless.sh'), 10_000);
      assert.ok(closed, 'connection closed');
      assert.ok(Date.now() - started < 5_000, 'closed long before the script ends');
      assert.equal(splitHead(received)?.afterHead.toString('latin1'), 'hello');
    });

    it('keeps the connection alive for a body of exactly the declared length', async () => {
      const conn = await RawConnection.open(server.port);
      try {
        conn.write(rawRequest('GET', '/cgi-bin/exact-body.sh') + rawRequest('GET', '/cgi-bin/exact-body.sh'));
        const responses = await conn.readResponses(2);
        for (const response of responses) {
          assert.equal(header(response, 'Content-Length'), '5');
          assert.equal(response.body.toString('latin1'), 'hello');
        }
        assert.equal(conn.closed, false);
      } finally {
        conn.destroy();
      }
    });

    it('cuts the connection when the body is shorter than the declared length', async () => {
      await assert.rejects(request(server.port, '/cgi-bin/short-body.sh'));
      assert.match(server.logs(), /short-body\.sh' wrote less than its Content-Length; connection cut/);
    });
  });
}
