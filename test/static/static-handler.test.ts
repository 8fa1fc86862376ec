/**
 * The HTTP semantics of a static mount, over a real socket. Every case runs
 * twice: with the open-file cache and without it, since both must answer
 * the same (RFC 9110 §13 preconditions, §14 ranges, §15.3.7 206, §15.4.5 304).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StaticHandler } from '../../src/static/static-handler.js';
import { directTarget, makeSite, memoryLog, startStaticHarness, type MountHarness, type Site } from './static-test-server.js';

for (const cached of [true, false]) {
  describe(`static handler (open-file cache ${cached ? 'on' : 'off'})`, { timeout: 30_000 }, () => {
    let site: Site;
    let server: MountHarness;
    before(async () => {
      site = makeSite();
      const handler = new StaticHandler({ root: site.root, log: memoryLog().log, openFileCache: cached ? {} : false });
      await handler.start();
      server = await startStaticHarness(handler);
    });
    after(async () => {
      await server?.close();
      site?.remove();
    });

    it('serves a file with its length, ETag and Last-Modified', async () => {
      const reply = await server.inject('/static/hello.txt');
      assert.equal(reply.status, 200);
      assert.equal(reply.text, 'hello, static world\n');
      assert.equal(reply.headers['content-length'], String(reply.body.length));
      assert.match(reply.headers.etag ?? '', /^W\/"[0-9a-f]+-[0-9a-f]+"$/);
      assert.ok(!Number.isNaN(Date.parse(reply.headers['last-modified'] ?? '')), 'Last-Modified is an HTTP date');
      assert.equal(reply.headers['accept-ranges'], 'bytes');
    });

    it('answers HEAD with the GET headers and no body', async () => {
      const get = await server.inject('/static/style.css');
      const head = await server.inject('/static/style.css', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0);
      for (const name of ['content-length', 'content-type', 'etag', 'last-modified']) assert.equal(head.headers[name], get.headers[name], name);
    });

    it('answers other methods with 405 and Allow: GET, HEAD', async () => {
      for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
        const reply = await server.inject('/static/hello.txt', { method });
        assert.equal(reply.status, 405, method);
        assert.equal(reply.headers.allow, 'GET, HEAD', method);
      }
    });

    it('labels content types by extension, with a charset for text', async () => {
      const expected: Record<string, string> = {
        'index.html': 'text/html; charset=utf-8',
        'style.css': 'text/css; charset=utf-8',
        'app.js': 'text/javascript; charset=utf-8',
        'data.json': 'application/json; charset=utf-8',
        'image.svg': 'image/svg+xml',
        'pixel.png': 'image/png',
        'hello.txt': 'text/plain; charset=utf-8',
        'big.bin': 'application/octet-stream',
      };
      for (const [name, type] of Object.entries(expected)) {
        const reply = await server.inject(`/static/${name}`);
        assert.equal(reply.status, 200, name);
        assert.equal(reply.headers['content-type'], type, name);
      }
      const png = await server.inject('/static/pixel.png');
      assert.deepEqual(png.body, readFileSync(join(site.root, 'pixel.png')), 'binary bytes intact');
    });

    it('answers If-None-Match with the current ETag with 304 and no body (RFC 9110 §13.1.2)', async () => {
      const first = await server.inject('/static/hello.txt');
      const reply = await server.inject('/static/hello.txt', { headers: { 'If-None-Match': first.headers.etag } });
      assert.equal(reply.status, 304);
      assert.equal(reply.body.length, 0);
      assert.equal(reply.headers.etag, first.headers.etag, '§15.4.5: a 304 carries the ETag');
      const other = await server.inject('/static/hello.txt', { headers: { 'If-None-Match': 'W/"0-0"' } });
      assert.equal(other.status, 200);
    });

    it('answers If-Modified-Since at or after Last-Modified with 304 (RFC 9110 §13.1.3)', async () => {
      const first = await server.inject('/static/hello.txt');
      const lastModified = first.headers['last-modified'] as string;
      assert.equal((await server.inject('/static/hello.txt', { headers: { 'If-Modified-Since': lastModified } })).status, 304);
      const earlier = new Date(Date.parse(lastModified) - 3600_000).toUTCString();
      assert.equal((await server.inject('/static/hello.txt', { headers: { 'If-Modified-Since': earlier } })).status, 200);
    });

    it('serves one byte range with 206 and Content-Range (RFC 9110 §14.2, §15.3.7)', async () => {
      const whole = readFileSync(join(site.root, 'big.bin'));
      const reply = await server.inject('/static/big.bin', { headers: { Range: 'bytes=10-19' } });
      assert.equal(reply.status, 206);
      assert.equal(reply.headers['content-range'], `bytes 10-19/${whole.length}`);
      assert.equal(reply.headers['content-length'], '10');
      assert.deepEqual(reply.body, whole.subarray(10, 20));
      const suffix = await server.inject('/static/hello.txt', { headers: { Range: 'bytes=-6' } });
      assert.equal(suffix.status, 206);
      assert.equal(suffix.text, 'world\n');
    });

    it('answers HEAD with a Range with 206 headers and no body', async () => {
      const reply = await server.inject('/static/hello.txt', { method: 'HEAD', headers: { Range: 'bytes=0-4' } });
      assert.equal(reply.status, 206);
      assert.equal(reply.headers['content-length'], '5');
      assert.equal(reply.body.length, 0);
    });

    it('answers several ranges with the whole file, as RFC 9110 §14.2 allows (send serves single ranges only)', async () => {
      const reply = await server.inject('/static/hello.txt', { headers: { Range: 'bytes=0-1,5-6' } });
      assert.equal(reply.status, 200);
      assert.equal(reply.text, 'hello, static world\n');
    });

    it('answers an unsatisfiable range with 416 and Content-Range: bytes */length (RFC 9110 §15.5.17)', async () => {
      const reply = await server.inject('/static/hello.txt', { headers: { Range: 'bytes=1000-2000' } });
      assert.equal(reply.status, 416);
      assert.equal(reply.headers['content-range'], 'bytes */20');
      assert.equal(reply.headers.etag, undefined, 'no representation headers on the error');
    });

    it('honours If-Range: a matching validator gives 206, a stale one the whole file (RFC 9110 §13.1.5)', async () => {
      const first = await server.inject('/static/hello.txt');
      const byDate = await server.inject('/static/hello.txt', {
        headers: { Range: 'bytes=0-4', 'If-Range': first.headers['last-modified'] as string },
      });
      assert.equal(byDate.status, 206);
      assert.equal(byDate.text, 'hello');
      const byTag = await server.inject('/static/hello.txt', { headers: { Range: 'bytes=0-4', 'If-Range': first.headers.etag as string } });
      assert.equal(byTag.status, 206);
      const stale = await server.inject('/static/hello.txt', { headers: { Range: 'bytes=0-4', 'If-Range': '"something-else"' } });
      assert.equal(stale.status, 200);
      assert.equal(stale.text, 'hello, static world\n');
      const old = await server.inject('/static/hello.txt', { headers: { Range: 'bytes=0-4', 'If-Range': new Date(0).toUTCString() } });
      assert.equal(old.status, 200);
    });

    it('answers a failed If-Match with 412 (RFC 9110 §13.1.1)', async () => {
      const reply = await server.inject('/static/hello.txt', { headers: { 'If-Match': '"nope"' } });
      assert.equal(reply.status, 412);
    });

    it('serves index.html for a directory asked for with a trailing slash', async () => {
      const root = await server.inject('/static/');
      assert.equal(root.status, 200);
      assert.match(root.text, /root index/);
      assert.equal(root.headers['content-type'], 'text/html; charset=utf-8');
      const docs = await server.inject('/static/docs/');
      assert.equal(docs.status, 200);
      assert.match(docs.text, /docs index/);
    });

    it('redirects a directory without its trailing slash with 301, keeping the query', async () => {
      const docs = await server.inject('/static/docs?lang=en&x=%20y');
      assert.equal(docs.status, 301);
      assert.equal(docs.headers.location, '/static/docs/?lang=en&x=%20y');
      const mountRoot = await server.inject('/static');
      assert.equal(mountRoot.status, 301);
      assert.equal(mountRoot.headers.location, '/static/');
      const encoded = await server.inject('/static/nested/deeper');
      assert.equal(encoded.headers.location, '/static/nested/deeper/');
    });

    it('percent-encodes the redirect target, and never makes it a network-path reference', async () => {
      const reply = await server.inject(directTarget('//docs'));
      assert.equal(reply.status, 301);
      assert.equal(reply.headers.location, '/direct/docs/');
    });

    it('lists no directory: a directory without index.html is a 404', async () => {
      const reply = await server.inject('/static/empty/');
      assert.equal(reply.status, 404);
      assert.doesNotMatch(reply.text, /index/);
    });

    it('answers a missing file with 404, and a file asked for as a directory with 404', async () => {
      assert.equal((await server.inject('/static/missing.txt')).status, 404);
      assert.equal((await server.inject('/static/hello.txt/')).status, 404);
      assert.equal((await server.inject('/static/hello.txt/more')).status, 404);
    });

    it('serves UTF-8 file names from their percent-encoded bytes', async () => {
      const reply = await server.inject('/static/caf%C3%A9.txt');
      assert.equal(reply.status, 200);
      assert.equal(reply.text, 'utf-8 name\n');
      assert.equal((await server.inject('/static/caf%E9.txt')).status, 404, 'latin-1 bytes are not UTF-8');
    });

    it('follows symlinks that stay inside the root', async () => {
      const file = await server.inject('/static/link-in.txt');
      assert.equal(file.status, 200);
      assert.equal(file.text, 'hello, static world\n');
      const dir = await server.inject('/static/docs-link/page.txt');
      assert.equal(dir.status, 200);
      assert.equal(dir.text, 'a page in docs\n');
    });
  });
}

describe('static handler construction', () => {
  it('refuses a relative root, listings, and (on start) a root that is not a directory', async () => {
    const { log } = memoryLog();
    assert.throws(() => new StaticHandler({ root: 'www', log }), { code: 'PORTICO_ERR_CONFIG' });
    assert.throws(() => new StaticHandler({ root: '/tmp', log, listing: true as unknown as false }), { code: 'PORTICO_ERR_CONFIG' });
    await assert.rejects(new StaticHandler({ root: '/nonexistent/portico', log }).start(), { code: 'PORTICO_ERR_CONFIG' });
    const site = makeSite();
    try {
      await assert.rejects(new StaticHandler({ root: join(site.root, 'hello.txt'), log }).start(), { code: 'PORTICO_ERR_CONFIG' });
    } finally {
      site.remove();
    }
  });
});
