/**
 * PEP 3333: the server calls close() on the app's iterable however the
 * response ends: normally, by an exception, or by the client going away.
 * The fixture records each close() to a file given with -e CLOSE_LOG=...
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { RawConnection, exchangeRaw, rawRequest } from '../helpers/raw-connection.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('close() of the response iterable', { timeout: 60_000 }, () => {
  const temp = makeTempDir();
  const closeLog = join(temp.path, 'close.log');
  let server: Portico;

  before(async () => {
    const { app, args } = fixtureApp('close_app');
    server = await startPortico({ app, args: [...args, '-e', `CLOSE_LOG=${closeLog}`] });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  const closes = (tag: string): number => {
    let text = '';
    try {
      text = readFileSync(closeLog, 'utf8');
    } catch {
      return 0;
    }
    return text.split('\n').filter((line) => line === `close ${tag}`).length;
  };

  let fences = 0;
  async function expectClosedOnce(tag: string, timeoutMs = 5_000): Promise<void> {
    await eventually(`close() called for ${tag}`, () => (closes(tag) > 0 ? true : undefined), timeoutMs);
    // A fence: the one worker thread runs requests in order, so once a later
    // request's close() is recorded, every close() of this one has been.
    assert.equal(server.workers, 1, 'the fence needs one worker');
    const fence = `fence-${++fences}`;
    assert.equal((await httpRequest(`${server.url}/normal?tag=${fence}`, { timeoutMs: 5_000 })).status, 200);
    await eventually(`close() called for ${fence}`, () => (closes(fence) > 0 ? true : undefined), 5_000);
    assert.equal(closes(tag), 1, `close() called exactly once for ${tag}`);
  }

  it('is called after a normal end', async () => {
    const result = await httpRequest(`${server.url}/normal?tag=normal`);
    assert.equal(result.status, 200);
    assert.equal(result.text, 'chunk 0\nchunk 1\nchunk 2\n');
    await expectClosedOnce('normal');
  });

  it('is called when the iterable raises before any body', async () => {
    const result = await httpRequest(`${server.url}/raise-first?tag=raise-first`);
    assert.equal(result.status, 500);
    await expectClosedOnce('raise-first');
  });

  it('is called when the iterable raises mid-body', async () => {
    const { closed } = await exchangeRaw(server.port, rawRequest('GET', '/raise-late?tag=raise-late'));
    assert.ok(closed, 'the connection was aborted');
    await expectClosedOnce('raise-late');
  });

  it('is called when the client disconnects mid-response, and the worker is freed', async () => {
    const conn = await RawConnection.open(server.port);
    conn.write(rawRequest('GET', '/slow?tag=disconnect'));
    const started = await conn.waitFor((buf) => buf.includes('chunk 1'), 5_000);
    conn.destroy();
    assert.ok(started, 'the slow response started');
    // The iterable would run for another minute; close() must come long before.
    await expectClosedOnce('disconnect', 10_000);
    const next = await httpRequest(`${server.url}/normal?tag=after-disconnect`, { timeoutMs: 5_000 });
    assert.equal(next.status, 200);
  });
});
