/**
 * HTTP/1.1 details an ASGI application leans on the server for: Expect:
 * 100-continue answered only once the application first calls receive()
 * (RFC 9110 §10.1.1), chunked request bodies handed over de-chunked, and
 * HEAD answered with the GET's header fields and no body.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { fixtureSaid, startAsgi, uniqueMark } from '../helpers/asgi-fixtures.js';
import type { Portico } from '../helpers/portico.js';
import { RawConnection, rawRequest } from '../helpers/raw-connection.js';
import { header } from '../helpers/raw-response.js';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';

describe('ASGI and HTTP/1.1', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startAsgi('raw_app:app');
  });
  after(async () => {
    await server?.stop();
  });

  it('sends 100 Continue only when the application first calls receive()', async () => {
    const mark = uniqueMark('expect');
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(rawRequest('POST', `/expect?mark=${mark}&s=0.5`, [['Expect', '100-continue'], ['Content-Length', '11']]));
      assert.ok(await conn.waitFor((buf) => buf.includes(CONTINUE), 5_000), `100 Continue came: ${JSON.stringify(conn.text)}`);
      const continuedAt = Date.now();
      const receiving = await fixtureSaid(server, `calling receive mark=${mark}`);
      assert.ok(continuedAt >= receiving.at, `100 Continue came ${receiving.at - continuedAt} ms before the application called receive()`);
      conn.write('hello world');
      const [interim, final] = await conn.readResponses(2, 5_000);
      assert.equal(interim?.status, 100);
      assert.equal(final?.status, 200);
      assert.deepEqual(JSON.parse(final.body.toString()), { length: 11 });
    } finally {
      conn.destroy();
    }
  });

  it('sends no 100 Continue to a request whose application never reads the body', async () => {
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(rawRequest('POST', '/hello', [['Expect', '100-continue'], ['Content-Length', '5']]));
      const [response] = await conn.readResponses(1, 5_000);
      assert.equal(response?.status, 200);
      assert.equal(response.body.toString(), 'hello from ASGI');
      assert.ok(!conn.text.includes('100 Continue'), JSON.stringify(conn.text.slice(0, 300)));
    } finally {
      conn.destroy();
    }
  });

  it('hands a chunked request body over de-chunked, past the request window', async () => {
    const sizes = [1, 300 * 1024, 17, 1024 * 1024, 5, 512 * 1024 + 3];
    const parts = sizes.map((n) => randomBytes(n));
    const whole = Buffer.concat(parts);
    const chunked = Buffer.concat([...parts.flatMap((p) => [Buffer.from(`${p.length.toString(16)}\r\n`), p, Buffer.from('\r\n')]), Buffer.from('0\r\n\r\n')]);
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(rawRequest('POST', '/echo-body', [['Transfer-Encoding', 'chunked'], ['Content-Type', 'application/octet-stream']]));
      conn.write(chunked);
      const [response] = await conn.readResponses(1, 15_000);
      assert.equal(response?.status, 200, response?.body.toString());
      const echoed = JSON.parse(response.body.toString()) as { length: number; sha256: string };
      assert.equal(echoed.length, whole.length);
      assert.equal(echoed.sha256, createHash('sha256').update(whole).digest('hex'));
    } finally {
      conn.destroy();
    }
  });

  it("answers HEAD with GET's header fields and no body, and the connection carries the next request", async () => {
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(rawRequest('GET', '/hello') + rawRequest('HEAD', '/hello') + rawRequest('GET', '/hello'));
      const [get, head, again] = await conn.readResponses(3, 5_000, (i) => i === 1);
      assert.equal(head?.status, 200);
      assert.equal(head.body.length, 0);
      for (const name of ['content-type', 'content-length', 'x-route']) assert.equal(header(head, name), header(get!, name), name);
      assert.equal(again?.body.toString(), 'hello from ASGI');
    } finally {
      conn.destroy();
    }
  });
});
