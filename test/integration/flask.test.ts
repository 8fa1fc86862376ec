/**
 * A real Flask app (Debian's python3-flask, under /usr/bin/python3) served
 * through portico: routing, forms, JSON, multipart upload, cookies,
 * redirects and a streamed response.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { FLASK_APP_DIR, SYSTEM_PYTHON } from '../helpers/paths.js';
import { startPortico, type Portico } from '../helpers/portico.js';
import { httpRequest } from '../helpers/http-client.js';
import { RawConnection, rawRequest } from '../helpers/raw-connection.js';

function multipart(boundary: string, parts: Array<{ name: string; filename?: string; type?: string; data: Buffer | string }>): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name="${part.name}"`;
    if (part.filename !== undefined) head += `; filename="${part.filename}"`;
    head += '\r\n';
    if (part.type !== undefined) head += `Content-Type: ${part.type}\r\n`;
    pieces.push(Buffer.from(head + '\r\n'), Buffer.from(part.data), Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(pieces);
}

describe('Flask', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startPortico({
      app: 'flask_fixture:create_app()',
      args: ['--python', SYSTEM_PYTHON, '--chdir', FLASK_APP_DIR, '-w', '2'],
    });
  });
  after(async () => {
    await server?.stop();
  });

  it('serves a route', async () => {
    const result = await httpRequest(`${server.url}/`);
    assert.equal(result.status, 200);
    assert.equal(result.text, 'Hello from Flask');
    assert.match(String(result.headers['content-type']), /^text\/html/);
  });

  it('routes with a path variable and a query string', async () => {
    const result = await httpRequest(`${server.url}/user/ada?page=2`);
    assert.equal(result.status, 200);
    assert.deepEqual(JSON.parse(result.text), { name: 'ada', page: '2' });
  });

  it('answers 404 for an unknown route', async () => {
    assert.equal((await httpRequest(`${server.url}/nowhere`)).status, 404);
  });

  it('reads a urlencoded form POST', async () => {
    const result = await httpRequest(`${server.url}/form`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'a=1&a=2&b=x%20y&c=%C3%A9',
    });
    assert.equal(result.status, 200, result.text);
    assert.deepEqual(JSON.parse(result.text), { fields: { a: ['1', '2'], b: ['x y'], c: ['\u00e9'] } });
  });

  it('reads and answers JSON', async () => {
    const result = await httpRequest(`${server.url}/json`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ numbers: [1, 2, 3], text: 'caf\u00e9' }),
    });
    assert.equal(result.status, 200, result.text);
    assert.match(String(result.headers['content-type']), /^application\/json/);
    assert.deepEqual(JSON.parse(result.text), { received: { numbers: [1, 2, 3], text: 'caf\u00e9' }, doubled: [2, 4, 6] });
  });

  it('receives a multipart file upload', async () => {
    const file = randomBytes(300 * 1024);
    const boundary = 'portico-test-boundary-7d3f';
    const body = multipart(boundary, [
      { name: 'note', data: 'a note' },
      { name: 'document', filename: 'data.bin', type: 'application/octet-stream', data: file },
    ]);
    const result = await httpRequest(`${server.url}/upload`, {
      method: 'POST',
      headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    assert.equal(result.status, 200, result.text);
    assert.deepEqual(JSON.parse(result.text), {
      filename: 'data.bin',
      size: file.length,
      sha256: createHash('sha256').update(file).digest('hex'),
      note: 'a note',
    });
  });

  it('sets a cookie and reads cookies back', async () => {
    const set = await httpRequest(`${server.url}/cookie/set?value=ginger`);
    assert.equal(set.status, 200);
    const cookies = set.headers['set-cookie'] ?? [];
    assert.ok(cookies.some((c) => /^flavour=ginger;/.test(c)), `Set-Cookie: ${JSON.stringify(cookies)}`);
    const read = await httpRequest(`${server.url}/cookie/read`, { headers: { Cookie: 'flavour=ginger; other=1' } });
    assert.deepEqual(JSON.parse(read.text), { cookies: { flavour: 'ginger', other: '1' } });
  });

  it('redirects', async () => {
    const result = await httpRequest(`${server.url}/redirect`);
    assert.equal(result.status, 302);
    assert.match(String(result.headers.location), /\/user\/redirected$/);
  });

  it('streams a response as it is produced', async () => {
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(rawRequest('GET', '/stream?count=5&delay=0.3'));
      assert.ok(await conn.waitFor((buf) => buf.includes('line 0'), 5_000), 'the first line arrived');
      const firstLineAt = Date.now();
      const [response] = await conn.readResponses(1, 10_000);
      const completeAfter = Date.now() - firstLineAt;
      assert.equal(response?.framing, 'chunked');
      assert.equal(response.body.toString(), 'line 0\nline 1\nline 2\nline 3\nline 4\n');
      assert.ok(completeAfter >= 900, `the first line came ${completeAfter} ms before the end, not with it`);
    } finally {
      conn.destroy();
    }
  });

  it('answers 500 when a view raises, and keeps serving', async () => {
    assert.equal((await httpRequest(`${server.url}/fail`)).status, 500);
    assert.equal((await httpRequest(`${server.url}/`)).status, 200);
  });
});
