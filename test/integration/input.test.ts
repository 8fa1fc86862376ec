/**
 * wsgi.input: every read method, the CONTENT_LENGTH boundary, chunked
 * request bodies and Expect: 100-continue.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { httpRequest, latin1Bytes } from '../helpers/http-client.js';
import { RawConnection, rawRequest } from '../helpers/raw-connection.js';
import type { RawResponse } from '../helpers/raw-response.js';

interface InputReport {
  chunks: string[];
  data: string;
  content_length: string | null;
  input_terminated: unknown;
  after_eof?: string;
  second?: string;
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

describe('wsgi.input', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startPortico(fixtureApp('input_app'));
  });
  after(async () => {
    await server?.stop();
  });

  async function post(path: string, body: Buffer | string): Promise<InputReport> {
    const result = await httpRequest(server.url + path, { method: 'POST', body, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(result.status, 200, result.text);
    return JSON.parse(result.text) as InputReport;
  }

  async function exchange(request: string, count = 1): Promise<RawResponse[]> {
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(request);
      return await conn.readResponses(count);
    } finally {
      conn.destroy();
    }
  }

  const report = (response: RawResponse | undefined): InputReport => {
    assert.equal(response?.status, 200, response?.body.toString('latin1'));
    return JSON.parse(response.body.toString('latin1')) as InputReport;
  };

  it('read() with no size returns the whole body, then b""', async () => {
    const result = await post('/read-all', ALL_BYTES);
    assert.deepEqual(latin1Bytes(result.data), ALL_BYTES);
    assert.equal(result.second, '');
    assert.equal(result.content_length, '256');
  });

  it('read(n) returns at most n bytes at a time, and b"" at the end', async () => {
    const body = Buffer.concat([ALL_BYTES, ALL_BYTES]).subarray(0, 300);
    const result = await post('/read-n?n=7', body);
    assert.ok(result.chunks.length >= 300 / 7, `${result.chunks.length} reads`);
    for (const chunk of result.chunks) assert.ok(chunk.length > 0 && chunk.length <= 7, `chunk of ${chunk.length}`);
    assert.deepEqual(latin1Bytes(result.data), body);
    assert.equal(result.after_eof, '');
  });

  it('readline() splits on \\n and keeps the last unterminated line', async () => {
    const result = await post('/readline', 'a\nbb\nccc');
    assert.deepEqual(result.chunks, ['a\n', 'bb\n', 'ccc']);
  });

  it('readline(n) returns at most n bytes of a line', async () => {
    const result = await post('/readline-n?n=2', 'abcde\nfg\n');
    assert.deepEqual(result.chunks, ['ab', 'cd', 'e\n', 'fg', '\n']);
  });

  it('readlines() returns every line', async () => {
    const result = await post('/readlines', 'a\nbb\nccc');
    assert.deepEqual(result.chunks, ['a\n', 'bb\n', 'ccc']);
  });

  it('iterating over wsgi.input yields lines', async () => {
    const result = await post('/iter', 'one\ntwo\n\nfour');
    assert.deepEqual(result.chunks, ['one\n', 'two\n', '\n', 'four']);
  });

  it('stops at CONTENT_LENGTH: a pipelined next request is not read as body', async () => {
    const [first, second] = await exchange(
      rawRequest('POST', '/read-n?n=100', [['Content-Length', '5']], 'hello') + rawRequest('GET', '/read-n?n=100'),
      2,
    );
    assert.equal(report(first).data, 'hello');
    const next = report(second);
    assert.equal(next.data, '');
    assert.equal(next.content_length, null);
  });

  it('skips a body the app did not read before the next request on the connection', async () => {
    const [first, second] = await exchange(
      rawRequest('POST', '/ignore-body', [['Content-Length', '10']], '0123456789') +
        rawRequest('POST', '/read-n?n=100', [['Content-Length', '3']], 'abc'),
      2,
    );
    assert.equal(first?.status, 200);
    assert.equal(report(second).data, 'abc');
  });

  it('decodes a chunked request body and terminates it (wsgi.input_terminated)', async () => {
    const chunked = '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n';
    for (const path of ['/read-all', '/read-n?n=4', '/readline']) {
      const [response] = await exchange(rawRequest('POST', path, [['Transfer-Encoding', 'chunked']], chunked));
      const result = report(response);
      assert.equal(result.data, 'hello world', path);
      assert.equal(result.content_length, null, `${path}: no CONTENT_LENGTH for a chunked body`);
      assert.equal(result.input_terminated, true, path);
    }
  });

  it('delivers an 8 MiB binary body intact', async () => {
    const body = randomBytes(8 * 1024 * 1024);
    const result = await httpRequest(server.url + '/sha256?block=65536', { method: 'POST', body, timeoutMs: 30_000 });
    assert.equal(result.status, 200, result.text);
    const got = JSON.parse(result.text) as { length: number; sha256: string };
    assert.equal(got.length, body.length);
    assert.equal(got.sha256, createHash('sha256').update(body).digest('hex'));
  });

  it('sends 100 Continue only once the app starts reading the body', async () => {
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(rawRequest('POST', '/read-after-sleep?s=0.5', [['Content-Length', '5'], ['Expect', '100-continue']]));
      // The app sleeps 0.5 s before it reads: nothing may arrive before that.
      const early = await conn.receivedAfter(300);
      assert.equal(early.length, 0, `got bytes before the app read: ${JSON.stringify(early.toString('latin1'))}`);
      const [interim] = await conn.readResponses(1, 5_000);
      assert.equal(interim?.status, 100, conn.text);
      assert.ok((conn.firstByteDelayMs ?? 0) >= 400, `100 Continue came after ${conn.firstByteDelayMs} ms, before the app read`);
      conn.write('hello');
      const responses = await conn.readResponses(2, 5_000);
      assert.equal(report(responses[1]).data, 'hello');
    } finally {
      conn.destroy();
    }
  });

  it('sends no 100 Continue to an app that never reads the body', async () => {
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(rawRequest('POST', '/ignore-body', [['Content-Length', '5'], ['Expect', '100-continue']]));
      const [response] = await conn.readResponses(1, 5_000);
      assert.equal(response?.status, 200, conn.text);
      assert.deepEqual(JSON.parse(response.body.toString('latin1')), { ignored: true });
    } finally {
      conn.destroy();
    }
  });
});
