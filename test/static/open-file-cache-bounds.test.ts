/**
 * The open-file cache follows the disk and stays within its bounds: a file
 * deleted or grown past the size limit is noticed at the next revalidation
 * (404, or streamed by send), entries and bytes never pass their caps,
 * and the requests that find an entry stale or missing at the same moment
 * share one lookup instead of each going to the disk.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StaticHandler } from '../../src/static/static-handler.js';
import { OpenFileCache } from '../../src/static/open-file-cache.js';
import { headersBesidesDate, makeSite, memoryLog, startStaticHarness, type MountHarness, type Site } from './static-test-server.js';

/** Asks until `done` holds for the reply, for at most `withinMs`; the last reply. */
async function askUntil(server: MountHarness, target: string, done: (status: number, text: string) => boolean, withinMs: number) {
  const start = Date.now();
  for (;;) {
    const reply = await server.inject(target);
    if (done(reply.status, reply.text) || Date.now() - start > withinMs) return { reply, ms: Date.now() - start };
    await sleep(25);
  }
}

describe('open-file cache: revalidation', { timeout: 30_000 }, () => {
  let site: Site;
  let standard: MountHarness;
  let uncached: MountHarness;
  let cache: OpenFileCache;
  before(async () => {
    site = makeSite();
    cache = new OpenFileCache();
    standard = await startStaticHarness(new StaticHandler({ root: site.root, log: memoryLog().log, openFileCache: cache }));
    uncached = await startStaticHarness(new StaticHandler({ root: site.root, log: memoryLog().log, openFileCache: false }));
  });
  after(async () => {
    for (const server of [standard, uncached]) await server?.close();
    site?.remove();
  });

  it('answers 404 for a deleted file within a second, having served it from memory until then', async () => {
    const file = join(site.root, 'deleted.txt');
    writeFileSync(file, 'here for now\n');
    assert.equal((await standard.inject('/static/deleted.txt')).status, 200);
    unlinkSync(file);
    const { reply, ms } = await askUntil(standard, '/static/deleted.txt', (status) => status === 404, 3_000);
    assert.equal(reply.status, 404);
    assert.ok(ms <= 2_000, `404 after ${ms} ms (the interval is 1 s)`);
    assert.equal(cache.fresh('/deleted.txt', Date.now()), undefined, 'the entry is gone');
  });

  it('streams a file that grew past the size limit, with the headers send gives it', async () => {
    const file = join(site.root, 'growing.bin');
    writeFileSync(file, Buffer.alloc(1024, 'g'));
    assert.equal((await standard.inject('/static/growing.bin')).body.length, 1024);
    assert.ok(cache.fresh('/growing.bin', Date.now()), 'small: cached');
    const large = Buffer.alloc(cache.options.maxFileBytes + 1, 'G');
    writeFileSync(file, large);
    const { reply } = await askUntil(standard, '/static/growing.bin', (_, text) => text.length === large.length, 3_000);
    assert.deepEqual(reply.body, large);
    const streamed = await uncached.inject('/static/growing.bin');
    assert.deepEqual(headersBesidesDate(reply), headersBesidesDate(streamed));
    assert.equal(cache.fresh('/growing.bin', Date.now()), undefined, 'large: not kept');
    const bytesBefore = cache.bytes;
    assert.deepEqual((await standard.inject('/static/growing.bin')).body, large, 'and streamed again');
    assert.equal(cache.bytes, bytesBefore);
  });

  it('serves a file that shrank back under the limit from memory again', async () => {
    const file = join(site.root, 'shrinking.bin');
    writeFileSync(file, Buffer.alloc(cache.options.maxFileBytes + 1, 's'));
    await standard.inject('/static/shrinking.bin');
    assert.equal(cache.fresh('/shrinking.bin', Date.now()), undefined);
    writeFileSync(file, 'small now\n');
    const { reply } = await askUntil(standard, '/static/shrinking.bin', (_, text) => text === 'small now\n', 3_000);
    assert.equal(reply.text, 'small now\n');
    assert.ok(cache.fresh('/shrinking.bin', Date.now()));
  });
});

describe('open-file cache: bounds', { timeout: 30_000 }, () => {
  let site: Site;
  before(() => {
    site = makeSite();
    for (let i = 0; i < 40; i++) writeFileSync(join(site.root, `f${i}.bin`), Buffer.alloc(1000 + i, String(i % 10)));
  });
  after(() => site?.remove());

  for (const limits of [{ maxEntries: 8 }, { maxBytes: 10_000 }, { maxEntries: 5, maxBytes: 20_000 }]) {
    it(`never holds more than ${JSON.stringify(limits)}, and serves every file right`, async () => {
      const cache = new OpenFileCache({ ...limits, validityMs: 60_000 });
      const server = await startStaticHarness(new StaticHandler({ root: site.root, log: memoryLog().log, openFileCache: cache }));
      try {
        for (let round = 0; round < 2; round++) {
          for (let i = 0; i < 40; i++) {
            const reply = await server.inject(`/static/f${i}.bin`);
            assert.deepEqual(reply.body, Buffer.alloc(1000 + i, String(i % 10)), `f${i}.bin`);
            assert.ok(cache.size <= (limits.maxEntries ?? Infinity), `${cache.size} entries`);
            assert.ok(cache.bytes <= (limits.maxBytes ?? Infinity), `${cache.bytes} bytes`);
          }
        }
        assert.ok(cache.size > 0);
        // The bytes counted are the bodies held: the most recent files, newest last.
        let held = 0;
        for (let i = 39; i >= 0 && cache.fresh(`/f${i}.bin`, Date.now()) !== undefined; i--) held += 1000 + i;
        assert.equal(cache.bytes, held);
      } finally {
        await server.close();
      }
    });
  }

  it('keeps no file larger than the bytes bound, and evicts the least recently used first', async () => {
    const now = Date.now();
    const cache = new OpenFileCache({ maxBytes: 3_000, validityMs: 60_000 });
    const path = (i: number) => join(site.root, `f${i}.bin`);
    const { statSync } = await import('node:fs');
    assert.equal(cache.admits(statSync(path(0))), true);
    assert.equal(new OpenFileCache({ maxBytes: 999 }).admits(statSync(path(0))), false);
    await cache.load('a', path(0), 'f0.bin', now);
    await cache.load('b', path(1), 'f1.bin', now);
    assert.ok(cache.fresh('a', now), 'a is now the most recently used');
    await cache.load('c', path(2), 'f2.bin', now);
    assert.deepEqual([cache.size, cache.bytes], [2, 1000 + 1002]);
    assert.equal(cache.fresh('b', now), undefined);
    cache.forget('a');
    assert.deepEqual([cache.size, cache.bytes], [1, 1002]);
    cache.clear();
    assert.deepEqual([cache.size, cache.bytes], [0, 0]);
  });

  it('keeps a hot file through a stream of files asked for once, and always admits the newcomer', async () => {
    const now = Date.now();
    const cache = new OpenFileCache({ maxEntries: 3, validityMs: 60_000 });
    const path = (i: number) => join(site.root, `f${i}.bin`);
    await cache.load('hot', path(0), 'f0.bin', now);
    for (let i = 1; i < 30; i++) {
      assert.ok(cache.fresh('hot', now), `hot, after ${i - 1} cold files`);
      await cache.load(`cold${i}`, path(i), `f${i}.bin`, now);
      assert.ok(cache.size <= 3);
    }
    assert.ok(cache.fresh('cold29', now), 'the last one is held');
    // Every entry used since the hand passed: one of them goes, never the newcomer.
    for (const key of ['hot', 'cold28', 'cold29']) cache.fresh(key, now);
    await cache.load('new', path(30), 'f30.bin', now);
    assert.ok(cache.fresh('new', now));
    assert.equal(cache.size, 3);
  });
});

describe('open-file cache: one lookup for concurrent requests', { timeout: 30_000 }, () => {
  it('loads a cold file once, and revalidates a stale one once, however many ask at that moment', async () => {
    const site = makeSite();
    const cache = new OpenFileCache({ validityMs: 200 });
    const calls = { load: 0, confirm: 0 };
    const load = cache.load.bind(cache);
    const confirm = cache.confirm.bind(cache);
    cache.load = (...args) => (calls.load++, load(...args));
    cache.confirm = (...args) => (calls.confirm++, confirm(...args));
    const server = await startStaticHarness(new StaticHandler({ root: site.root, log: memoryLog().log, openFileCache: cache }));
    try {
      const expected = (await server.inject('/static/file10k.bin', { headers: { Range: 'bytes=0-' } })).body;
      const many = async () => {
        const replies = await Promise.all(Array.from({ length: 32 }, () => server.inject('/static/file10k.bin')));
        for (const reply of replies) assert.deepEqual([reply.status, reply.body], [200, expected]);
      };
      await many();
      assert.deepEqual(calls, { load: 1, confirm: 1 }, 'cold: one lookup (its confirm finds nothing, its load reads)');
      await sleep(250);
      await many();
      assert.deepEqual(calls, { load: 1, confirm: 2 }, 'stale: one revalidation');
    } finally {
      await server.close();
      site.remove();
    }
  });
});
