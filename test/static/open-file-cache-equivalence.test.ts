/**
 * The open-file cache changes nothing on the wire: for every request in a
 * table (plain, HEAD, conditional, ranged, redirected, refused, missing),
 * a mount with the cache answers with the status, headers (in order, Date
 * aside) and body that a mount without it answers, whether the file is
 * cold, freshly cached, or revalidated. And what the cache holds never
 * makes a refused path servable.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { StaticHandler } from '../../src/static/static-handler.js';
import { directTarget, headersBesidesDate, makeSite, memoryLog, SECRET, startStaticHarness, type MountHarness, type Reply, type Site } from './static-test-server.js';

type Case = { target: string; method?: string; headers?: Record<string, string> };

function sameAnswer(cached: Reply, streamed: Reply, what: string): void {
  assert.equal(cached.status, streamed.status, `${what}: status`);
  assert.deepEqual(headersBesidesDate(cached), headersBesidesDate(streamed), `${what}: headers`);
  assert.deepEqual(cached.body, streamed.body, `${what}: body`);
}

describe('open-file cache: the same answers as send', { timeout: 60_000 }, () => {
  let site: Site;
  let cached: MountHarness;
  let quick: MountHarness;
  let uncached: MountHarness;
  let etag = '';
  let lastModified = '';
  before(async () => {
    site = makeSite();
    const make = (openFileCache: false | { validityMs: number }) =>
      startStaticHarness(new StaticHandler({ root: site.root, log: memoryLog().log, openFileCache }));
    cached = await make({ validityMs: 60_000 });
    quick = await make({ validityMs: 50 });
    uncached = await make(false);
    const reply = await uncached.inject('/static/hello.txt');
    etag = reply.headers.etag ?? '';
    lastModified = reply.headers['last-modified'] ?? '';
  });
  after(async () => {
    for (const server of [cached, quick, uncached]) await server?.close();
    site?.remove();
  });

  function cases(): Case[] {
    const past = new Date(Date.parse(lastModified) - 3_600_000).toUTCString();
    const future = new Date(Date.parse(lastModified) + 3_600_000).toUTCString();
    const plain = ['/static/hello.txt', '/static/style.css', '/static/pixel.png', '/static/image.svg', '/static/data.json', '/static/file10k.bin', '/static/big.bin',
      '/static/', '/static/docs/', '/static/docs-link/page.txt', '/static/link-in.txt', '/static//hello.txt', '/static/caf%C3%A9.txt', '/static/%252e%252e'];
    const refused = ['/static/docs', '/static/docs?x=1', '/static/missing.txt', '/static/hello.txt/', '/static/empty/', '/static/fifo', '/static/.env',
      '/static/.git/config', '/static/link-out.txt', '/static/dir-out/secret.txt', '/static/index-out/', '/static/trap/', '/static/caf%E9.txt'];
    return [
      ...plain.flatMap((target) => [{ target }, { target, method: 'HEAD' }]),
      ...refused.flatMap((target) => [{ target }, { target, method: 'HEAD' }]),
      { target: '/static/hello.txt', method: 'POST' },
      { target: '/static/hello.txt', headers: { 'If-None-Match': etag } },
      { target: '/static/hello.txt', headers: { 'If-None-Match': '"other"' } },
      { target: '/static/hello.txt', headers: { 'If-None-Match': '*' } },
      { target: '/static/hello.txt', method: 'HEAD', headers: { 'If-None-Match': etag } },
      { target: '/static/hello.txt', headers: { 'If-Modified-Since': lastModified } },
      { target: '/static/hello.txt', headers: { 'If-Modified-Since': past } },
      { target: '/static/hello.txt', headers: { 'If-None-Match': etag, 'Cache-Control': 'no-cache' } },
      { target: '/static/hello.txt', headers: { 'If-Match': '"other"' } },
      { target: '/static/hello.txt', headers: { 'If-Match': etag } },
      { target: '/static/hello.txt', headers: { 'If-Unmodified-Since': past } },
      { target: '/static/hello.txt', headers: { 'If-Unmodified-Since': future } },
      { target: '/static/hello.txt', headers: { Range: 'bytes=0-4' } },
      { target: '/static/hello.txt', headers: { Range: 'bytes=-3' } },
      { target: '/static/hello.txt', headers: { Range: 'bytes=1000-' } },
      { target: '/static/hello.txt', headers: { Range: 'bytes=0-1,3-4' } },
      { target: '/static/hello.txt', headers: { Range: 'bytes=0-4', 'If-Range': etag } },
      { target: '/static/hello.txt', headers: { Range: 'bytes=0-4', 'If-Range': '"other"' } },
      { target: '/static/hello.txt', headers: { Range: 'bytes=0-4', 'If-Range': past } },
      { target: directTarget('/../outside/secret.txt') },
      { target: directTarget('/.env') },
    ];
  }

  it('answers every request as send does: cold, cached, and from memory', async () => {
    for (const { target, method = 'GET', headers = {} } of cases()) {
      const what = `${method} ${target} ${JSON.stringify(headers)}`;
      const streamed = await uncached.inject(target, { method, headers });
      // The first asks the disk and fills the cache; the second and third are hits where the request is plain.
      for (let i = 0; i < 3; i++) sameAnswer(await cached.inject(target, { method, headers }), streamed, `${what} #${i + 1}`);
    }
  });

  it('answers every request as send does after revalidation', async () => {
    for (const { target, method = 'GET', headers = {} } of cases()) {
      const what = `${method} ${target} ${JSON.stringify(headers)}`;
      const streamed = await uncached.inject(target, { method, headers });
      sameAnswer(await quick.inject(target, { method, headers }), streamed, what);
      await sleep(60);
      sameAnswer(await quick.inject(target, { method, headers }), streamed, `${what}, revalidated`);
    }
  });

  it('refuses dotfiles and traversal with a warm cache as it does with a cold one', async () => {
    for (const target of ['/static/hello.txt', '/static/', '/static/docs/', '/static/link-in.txt']) assert.equal((await cached.inject(target)).status, 200);
    const tricks = ['/static/.env', '/static/%2eenv', '/static/.git/config', '/static/../outside/secret.txt', '/static/..%2foutside%2fsecret.txt',
      '/static/docs/..%2f..%2foutside/secret.txt', '/static/link-out.txt', '/static/dir-out/secret.txt', '/static/index-out/', '/static/trap/'];
    for (const target of [...tricks, ...['/../outside/secret.txt', '/docs/../../outside/secret.txt', '/.env', '/link-out.txt'].map(directTarget)]) {
      for (let i = 0; i < 2; i++) {
        const reply = await cached.inject(target);
        assert.ok(reply.status >= 400 && reply.status < 500, `${target}: ${reply.status}`);
        assert.ok(!reply.text.includes(SECRET), `${target}: leaked`);
      }
    }
  });
});
