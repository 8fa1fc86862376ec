/**
 * The static open-file cache in the real server (`--static`): a hot file
 * from memory is answered as send answers it (compared with the same file
 * streamed by send for a request whose If-None-Match does not match, a
 * full 200 too); edits, deletions and growth past the cache's size limit
 * show within the one-second revalidation interval; dotfiles and traversal
 * stay refused; and under concurrent keep-alive load every answer is whole.
 * --static-cache-size bounds it, and 0 turns it off.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { requestTarget, sleep, type HttpResult } from '../helpers/http-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** The open-file cache's default limits (src/static/open-file-cache.ts). */
const MAX_CACHED_FILE = 64 * 1024;

function headersBesidesDate(reply: HttpResult): string[] {
  return reply.rawHeaders.flatMap((value, i, raw) => (i % 2 === 1 || value.toLowerCase() === 'date' ? [] : [value, raw[i + 1] as string]));
}

describe('static open-file cache in the server', { timeout: 60_000 }, () => {
  const temp = makeTempDir('portico-static-cache-');
  const root = join(temp.path, 'www');
  let server: Portico;
  const get = (target: string, headers: Record<string, string> = {}) => requestTarget(server.port, target, { headers, timeoutMs: 5_000 });

  /** Asks until `done` holds, for at most `withinMs`; the last reply and when it came. */
  async function askUntil(target: string, done: (reply: HttpResult) => boolean, withinMs = 3_000) {
    const start = Date.now();
    for (;;) {
      const reply = await get(target);
      if (done(reply) || Date.now() - start > withinMs) return { reply, ms: Date.now() - start };
      await sleep(25);
    }
  }

  before(async () => {
    mkdirSync(root);
    mkdirSync(join(temp.path, 'outside'));
    writeFileSync(join(temp.path, 'outside', 'secret.txt'), 'secret\n');
    writeFileSync(join(root, '.env'), 'SECRET_KEY=1\n');
    writeFileSync(join(root, 'page.html'), '<p>hello</p>\n'.repeat(200));
    writeFileSync(join(root, 'app.js'), 'console.log(1);\n'.repeat(500));
    const { app, args } = fixtureApp('hello_app');
    server = await startPortico({ app, args: [...args, '--static', `/static/=${root}`] });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it('answers a hit with the status, headers and body send gives the same file', async () => {
    for (const target of ['/static/page.html', '/static/app.js']) {
      await get(target);
      const hit = await get(target);
      const streamed = await get(target, { 'If-None-Match': '"not-this-one"' });
      assert.equal(hit.status, 200);
      assert.equal(streamed.status, 200);
      assert.deepEqual(headersBesidesDate(hit), headersBesidesDate(streamed), target);
      assert.deepEqual(hit.body, streamed.body, target);
      const notModified = await get(target, { 'If-None-Match': hit.headers.etag as string });
      assert.equal(notModified.status, 304, 'conditionals still go to send');
    }
  });

  it('serves an edit within the revalidation interval, and a 404 once the file is deleted', async () => {
    const file = join(root, 'edited.txt');
    writeFileSync(file, 'one\n');
    assert.equal((await get('/static/edited.txt')).text, 'one\n');
    assert.equal((await get('/static/edited.txt')).text, 'one\n');
    writeFileSync(file, 'two, longer\n');
    const edited = await askUntil('/static/edited.txt', (reply) => reply.text === 'two, longer\n');
    assert.equal(edited.reply.text, 'two, longer\n');
    assert.ok(edited.ms <= 2_000, `the edit showed after ${edited.ms} ms`);
    unlinkSync(file);
    const deleted = await askUntil('/static/edited.txt', (reply) => reply.status === 404);
    assert.equal(deleted.reply.status, 404);
    assert.ok(deleted.ms <= 2_000, `the 404 came after ${deleted.ms} ms`);
  });

  it('streams a file that grew past the cache size limit, whole', async () => {
    const file = join(root, 'growing.bin');
    writeFileSync(file, Buffer.alloc(1000, 'a'));
    assert.equal((await get('/static/growing.bin')).body.length, 1000);
    const large = Buffer.alloc(MAX_CACHED_FILE * 2, 'b');
    writeFileSync(file, large);
    const { reply } = await askUntil('/static/growing.bin', (r) => r.body.length === large.length);
    assert.deepEqual(reply.body, large);
    assert.equal(reply.headers['content-length'], String(large.length));
  });

  it('keeps dotfiles and paths out of the root refused', async () => {
    await get('/static/page.html');
    for (const target of ['/static/.env', '/static/%2eenv', '/static/..%2foutside%2fsecret.txt', '/static/..%2f.env']) {
      for (let i = 0; i < 2; i++) {
        const reply = await get(target);
        assert.equal(reply.status, 404, target);
        assert.ok(!reply.text.includes('SECRET_KEY') && !reply.text.includes('secret\n'), `${target}: leaked`);
      }
    }
    // The router resolves these dot segments first: they leave /static/ and reach the app at '/', not the file.
    for (const target of ['/static/../outside/secret.txt', '/static/%2e%2e/outside/secret.txt']) {
      assert.ok(!(await get(target)).text.includes('secret\n'), `${target}: leaked`);
    }
  });

  it('answers concurrent requests for a hot file whole', async () => {
    const expected = (await get('/static/app.js')).body;
    const replies = await Promise.all(Array.from({ length: 64 }, () => get('/static/app.js')));
    for (const reply of replies) assert.deepEqual([reply.status, reply.body.length], [200, expected.length]);
    assert.ok(replies.every((reply) => reply.body.equals(expected)));
  });
});

describe('--static-cache-size', { timeout: 60_000 }, () => {
  const temp = makeTempDir('portico-static-cache-size-');
  after(() => temp.remove());

  /** Serves `name`, rewrites it, and says whether the very next answer (well within the 1 s interval) still had the old bytes. */
  async function servedFromMemory(server: Portico, name: string, size: number): Promise<boolean> {
    const file = join(temp.path, name);
    writeFileSync(file, Buffer.alloc(size, 'o'));
    const target = `/static/${name}`;
    assert.equal((await requestTarget(server.port, target)).body.length, size);
    writeFileSync(file, Buffer.alloc(size, 'n'));
    const next = await requestTarget(server.port, target);
    return next.body.equals(Buffer.alloc(size, 'o'));
  }

  it('0 reads every file from disk; a size keeps files larger than it on disk', async () => {
    const { app, args } = fixtureApp('hello_app');
    const off = await startPortico({ app, args: [...args, '--static', `/static/=${temp.path}`, '--static-cache-size', '0'] });
    try {
      assert.equal(await servedFromMemory(off, 'off.txt', 100), false);
    } finally {
      await off.stop();
    }
    const small = await startPortico({ app, args: [...args, '--static', `/static/=${temp.path}`], env: { PORTICO_STATIC_CACHE_SIZE: '1000' } });
    try {
      assert.equal(await servedFromMemory(small, 'fits.txt', 1000), true, 'a file of the size itself is kept');
      assert.equal(await servedFromMemory(small, 'too-large.txt', 1001), false);
    } finally {
      await small.stop();
    }
  });
});
