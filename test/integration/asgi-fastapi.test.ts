/**
 * A real FastAPI application (Debian's python3-fastapi 0.92 on Starlette
 * 0.26, under /usr/bin/python3) served by portico's ASGI workers: routing
 * with percent-encoded UTF-8, JSON, forms, a 5 MB upload, streaming,
 * background tasks, dependencies, exception handlers, cookies, HEAD and
 * lifespan state (issue #13).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startAsgi, fixtureSaid, uniqueMark } from '../helpers/asgi-fixtures.js';
import type { Portico } from '../helpers/portico.js';
import { httpRequest } from '../helpers/http-client.js';
import { RawConnection, rawRequest } from '../helpers/raw-connection.js';

function multipart(boundary: string, parts: Array<{ name: string; filename?: string; data: Buffer | string }>): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`;
    if (part.filename !== undefined) head += `; filename="${part.filename}"\r\nContent-Type: application/octet-stream`;
    pieces.push(Buffer.from(`${head}\r\n\r\n`), Buffer.from(part.data), Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

describe('FastAPI', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startAsgi('fastapi_app:app');
  });
  after(async () => {
    await server?.stop();
  });

  it('routes path and query parameters, percent-encoded UTF-8 decoded', async () => {
    const result = await httpRequest(`${server.url}/items/caf%C3%A9%20cr%C3%A8me?q=%E2%9C%93%20ok&page=3`);
    assert.equal(result.status, 200, result.text);
    assert.deepEqual(JSON.parse(result.text), { item_id: 'caf\u00e9 cr\u00e8me', q: '\u2713 ok', page: 3 });
  });

  it('sends the status code with its own reason phrase (ASGI gives none)', async () => {
    const result = await httpRequest(`${server.url}/pid`);
    assert.equal(result.statusMessage, 'OK');
    const missing = await httpRequest(`${server.url}/missing`);
    assert.equal(missing.statusMessage, 'Not Found');
  });

  it('reads a JSON body into a model and answers JSON; a bad body gets 422', async () => {
    const result = await httpRequest(`${server.url}/orders`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ item: 'th\u00e9', quantity: 4, tags: ['a', 'b'] }),
    });
    assert.equal(result.status, 200, result.text);
    assert.match(String(result.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(result.text), { received: { item: 'th\u00e9', quantity: 4, tags: ['a', 'b'] }, total: 8 });
    const bad = await httpRequest(`${server.url}/orders`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"item": 1}' });
    assert.equal(bad.status, 422);
    assert.equal((JSON.parse(bad.text) as { detail: Array<{ loc: string[] }> }).detail[0]?.loc.join('.'), 'body.quantity');
  });

  it('reads a urlencoded form post', async () => {
    const result = await httpRequest(`${server.url}/form`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'name=Ada%20L%C3%B6velace&colour=green',
    });
    assert.equal(result.status, 200, result.text);
    assert.deepEqual(JSON.parse(result.text), { name: 'Ada L\u00f6velace', colour: 'green' });
  });

  it('receives a 5 MB multipart upload whole', async () => {
    const file = randomBytes(5 * 1024 * 1024);
    const boundary = 'portico-asgi-boundary-41c9';
    const result = await httpRequest(`${server.url}/upload`, {
      method: 'POST',
      headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
      body: multipart(boundary, [
        { name: 'note', data: 'five megabytes' },
        { name: 'document', filename: 'big.bin', data: file },
      ]),
      timeoutMs: 30_000,
    });
    assert.equal(result.status, 200, result.text);
    assert.deepEqual(JSON.parse(result.text), {
      filename: 'big.bin',
      size: file.length,
      sha256: createHash('sha256').update(file).digest('hex'),
      note: 'five megabytes',
    });
  });

  it('streams a StreamingResponse as it is produced, chunked, and its generator finishes', async () => {
    const mark = uniqueMark('stream');
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(rawRequest('GET', `/stream?count=6&delay=0.2&mark=${mark}`));
      assert.ok(await conn.waitFor((buf) => buf.includes('line 0'), 5_000), 'the first line arrived');
      const firstAt = Date.now();
      assert.ok(!conn.text.includes('line 5'), 'not all at once');
      const [response] = await conn.readResponses(1, 10_000);
      assert.ok(Date.now() - firstAt >= 800, 'the last line came about a second after the first');
      assert.equal(response?.framing, 'chunked');
      assert.equal(response.body.toString(), 'line 0\nline 1\nline 2\nline 3\nline 4\nline 5\n');
    } finally {
      conn.destroy();
    }
    await fixtureSaid(server, `stream generator finally mark=${mark}`);
  });

  it('runs a background task after the response went out', async () => {
    const mark = uniqueMark('bg');
    const result = await httpRequest(`${server.url}/background?mark=${mark}`, { method: 'POST' });
    const answeredAt = Date.now();
    assert.equal(result.status, 200);
    assert.deepEqual(JSON.parse(result.text), { queued: mark });
    const ran = await fixtureSaid(server, `background task ran mark=${mark}`);
    assert.ok(ran.at >= answeredAt - 50, `the task ran ${answeredAt - ran.at} ms before the response arrived`);
  });

  it('resolves dependencies, including one that raises HTTPException and one with cleanup', async () => {
    const result = await httpRequest(`${server.url}/dependencies?offset=20&limit=5`, { headers: { 'X-Caller': 'tests' } });
    assert.equal(result.status, 200, result.text);
    assert.deepEqual(JSON.parse(result.text), { page: { offset: 20, limit: 5 }, caller: 'tests', session: { opened: true } });
    const refused = await httpRequest(`${server.url}/dependencies`);
    assert.equal(refused.status, 400);
    assert.deepEqual(JSON.parse(refused.text), { detail: 'X-Caller is required' });
  });

  it('answers through a custom exception handler and HTTPException, with its headers', async () => {
    const teapot = await httpRequest(`${server.url}/teapot?who=portico`);
    assert.equal(teapot.status, 418);
    assert.deepEqual(JSON.parse(teapot.text), { teapot: 'portico' });
    const missing = await httpRequest(`${server.url}/missing`);
    assert.equal(missing.status, 404);
    assert.deepEqual(JSON.parse(missing.text), { detail: 'nothing here' });
    assert.equal(missing.headers['x-reason'], 'missing');
  });

  it('answers 500 for an unhandled exception, logs its traceback, and the worker serves on', async () => {
    const before = (await httpRequest(`${server.url}/pid`)).text;
    const result = await httpRequest(`${server.url}/crash`);
    assert.equal(result.status, 500);
    await server.waitForLog(/RuntimeError: fastapi view crashed/, 5_000);
    assert.equal((await httpRequest(`${server.url}/pid`)).text, before, 'the same worker answers');
  });

  it('sends two Set-Cookie headers as two fields', async () => {
    const result = await httpRequest(`${server.url}/cookies`);
    assert.equal(result.status, 200);
    const cookies = result.rawHeaders.filter((_, i) => i % 2 === 0 && /^set-cookie$/i.test(result.rawHeaders[i] ?? '')).length;
    assert.equal(cookies, 2, JSON.stringify(result.rawHeaders));
    assert.deepEqual(result.headers['set-cookie']?.map((c) => c.split(';')[0]), ['first=one', 'second=two']);
  });

  it('answers HEAD with the GET headers and no body', async () => {
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(rawRequest('HEAD', '/head') + rawRequest('GET', '/head'));
      const [head, get] = await conn.readResponses(2, 5_000, (i) => i === 0);
      assert.equal(head?.status, 200);
      assert.equal(head.body.length, 0);
      const headers = Object.fromEntries(head.headers.map(([n, v]) => [n.toLowerCase(), v]));
      assert.equal(headers['x-head'], 'yes');
      assert.equal(headers['content-length'], '29');
      assert.equal(get?.body.toString(), 'a body that HEAD does not get', 'the next response on the connection is intact');
    } finally {
      conn.destroy();
    }
  });

  it('gives routes the state its lifespan startup yielded', async () => {
    const result = await httpRequest(`${server.url}/lifespan-state`);
    assert.equal(result.status, 200);
    const state = JSON.parse(result.text) as { started_pid: number; pool: string; pid: number };
    assert.equal(state.pool, 'connected in startup');
    assert.equal(state.started_pid, state.pid, 'startup ran in the worker that serves');
    const startup = await fixtureSaid(server, 'fastapi startup');
    assert.equal(startup.pid, state.pid);
    const ready = server.logs().indexOf('worker ready');
    assert.ok(server.logs().indexOf('fastapi startup') < ready, 'startup ran before the server said it was ready');
  });
});
