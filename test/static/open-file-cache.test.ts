/**
 * The open-file cache: hot small files from memory, invalidated when the
 * file (or the path to it) changes, and indistinguishable on the wire from
 * a file streamed by send.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StaticHandler } from '../../src/static/static-handler.js';
import { OpenFileCache } from '../../src/static/open-file-cache.js';
import { headersBesidesDate, makeSite, memoryLog, SECRET, startStaticHarness, type MountHarness, type Site } from './static-test-server.js';

describe('open-file cache', { timeout: 30_000 }, () => {
  let site: Site;
  /** Cache trusted for a minute: what it serves after a change came from memory. */
  let sticky: MountHarness;
  /** Cache revalidated every 100 ms. */
  let quick: MountHarness;
  /** The default interval (1 s). */
  let standard: MountHarness;
  let uncached: MountHarness;
  before(async () => {
    site = makeSite();
    const make = (openFileCache: ConstructorParameters<typeof StaticHandler>[0]['openFileCache']) =>
      startStaticHarness(new StaticHandler({ root: site.root, log: memoryLog().log, openFileCache }));
    sticky = await make({ validityMs: 60_000 });
    quick = await make({ validityMs: 100 });
    standard = await make({});
    uncached = await make(false);
  });
  after(async () => {
    for (const server of [sticky, quick, standard, uncached]) await server?.close();
    site?.remove();
  });

  it('answers with the same status, headers (but Date) and body as send, on a miss and on a hit', async () => {
    for (const target of ['/static/hello.txt', '/static/', '/static/docs/', '/static/pixel.png', '/static/data.json', '/static/app.js', '/static/link-in.txt', '/static/file10k.bin']) {
      for (const method of ['GET', 'HEAD']) {
        const streamed = await uncached.inject(target, { method });
        const miss = await sticky.inject(target, { method });
        const hit = await sticky.inject(target, { method });
        assert.equal(streamed.status, 200, target);
        for (const cached of [miss, hit]) {
          assert.equal(cached.status, streamed.status, `${method} ${target}`);
          assert.deepEqual(headersBesidesDate(cached), headersBesidesDate(streamed), `${method} ${target}`);
          assert.deepEqual(cached.body, streamed.body, `${method} ${target}`);
        }
      }
    }
  });

  it('serves a hit from memory, and leaves conditional and range requests to send', async () => {
    writeFileSync(join(site.root, 'doomed.txt'), 'soon gone\n');
    const first = await sticky.inject('/static/doomed.txt');
    assert.equal(first.status, 200);
    unlinkSync(join(site.root, 'doomed.txt'));
    const hit = await sticky.inject('/static/doomed.txt');
    assert.equal(hit.status, 200, 'still served: it came from memory');
    assert.equal(hit.text, 'soon gone\n');
    assert.equal((await uncached.inject('/static/doomed.txt')).status, 404);
    // These need RFC 9110 §13/§14 evaluation, so they go to send and the disk.
    assert.equal((await sticky.inject('/static/doomed.txt', { headers: { Range: 'bytes=0-1' } })).status, 404);
    assert.equal((await sticky.inject('/static/doomed.txt', { headers: { 'If-None-Match': first.headers.etag } })).status, 404);
  });

  it('keeps files over 64 KiB out of memory', async () => {
    writeFileSync(join(site.root, 'large.bin'), Buffer.alloc(64 * 1024 + 1, 'L'));
    assert.equal((await sticky.inject('/static/large.bin')).status, 200);
    unlinkSync(join(site.root, 'large.bin'));
    assert.equal((await sticky.inject('/static/large.bin')).status, 404);
  });

  it('serves an edited file fresh once the revalidation interval has passed', async () => {
    const file = join(site.root, 'edited.txt');
    writeFileSync(file, 'version one\n');
    const v1 = await quick.inject('/static/edited.txt');
    assert.equal(v1.text, 'version one\n');
    assert.equal((await quick.inject('/static/edited.txt')).text, 'version one\n', 'a hit');

    writeFileSync(file, 'version two, longer\n');
    await sleep(150);
    const v2 = await quick.inject('/static/edited.txt');
    assert.equal(v2.text, 'version two, longer\n');
    assert.notEqual(v2.headers.etag, v1.headers.etag);
    assert.equal(v2.headers['content-length'], String('version two, longer\n'.length));

    // Same size, new bytes: the mtime and ctime tell.
    writeFileSync(file, 'version TWO, LONGER\n');
    await sleep(150);
    assert.equal((await quick.inject('/static/edited.txt')).text, 'version TWO, LONGER\n');

    // Replaced by rename, as editors and deploy tools do: a new inode.
    writeFileSync(file + '.tmp', 'version three\n');
    renameSync(file + '.tmp', file);
    await sleep(150);
    assert.equal((await quick.inject('/static/edited.txt')).text, 'version three\n');
  });

  it('picks up an edit within the default interval of one second', async () => {
    const file = join(site.root, 'edited-default.txt');
    writeFileSync(file, 'before\n');
    assert.equal((await standard.inject('/static/edited-default.txt')).text, 'before\n');
    writeFileSync(file, 'after\n');
    const editedAt = Date.now();
    let text = '';
    while (Date.now() - editedAt < 3_000) {
      text = (await standard.inject('/static/edited-default.txt')).text;
      if (text === 'after\n') break;
      await sleep(50);
    }
    assert.equal(text, 'after\n');
  });

  it('notices a symlink repointed out of the root at the next revalidation', async () => {
    const link = join(site.root, 'moving.txt');
    symlinkSync('hello.txt', link);
    assert.equal((await quick.inject('/static/moving.txt')).status, 200);
    rmSync(link);
    symlinkSync('../outside/secret.txt', link);
    await sleep(150);
    const reply = await quick.inject('/static/moving.txt');
    assert.equal(reply.status, 404);
    assert.ok(!reply.text.includes(SECRET));
  });

  it('reports the body bytes it sent, for the access log', async () => {
    const before = sticky.finished.length;
    await sticky.inject('/static/hello.txt');
    await sticky.inject('/static/hello.txt', { method: 'HEAD' });
    await sticky.inject('/static/big.bin');
    await sticky.inject('/static/big.bin', { headers: { Range: 'bytes=0-99' } });
    const records = await Promise.all([0, 1, 2, 3].map((i) => sticky.finishedRecord(before + i)));
    assert.deepEqual(records.map((record) => record.bodyBytes), [20, 0, 100 * 1024, 100]);
  });
});

describe('OpenFileCache', () => {
  it('keeps at most maxEntries, dropping the least recently used', async () => {
    const site = makeSite();
    try {
      const cache = new OpenFileCache({ maxEntries: 2, validityMs: 60_000 });
      const now = Date.now();
      await cache.load('a', join(site.root, 'hello.txt'), 'hello.txt', now);
      await cache.load('b', join(site.root, 'style.css'), 'style.css', now);
      assert.ok(cache.fresh('a', now), 'a is now the most recently used');
      await cache.load('c', join(site.root, 'app.js'), 'app.js', now);
      assert.equal(cache.size, 2);
      assert.equal(cache.fresh('b', now), undefined);
      assert.ok(cache.fresh('a', now));
      assert.ok(cache.fresh('c', now));
      assert.equal(cache.fresh('a', now + 60_000), undefined, 'stale after the interval');
    } finally {
      site.remove();
    }
  });
});
