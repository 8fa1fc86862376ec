/**
 * A client that leaves in the middle of an ASGI response: the application's
 * receive() says http.disconnect at once (the front's CANCEL, no polling),
 * its streaming generator is closed (its finally runs), and a send() after
 * that raises an OSError subclass (ASGI HTTP spec 2.4, "Disconnected
 * Client") that the worker survives. With a raw ASGI application and with
 * FastAPI's StreamingResponse.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureSaid, startAsgi, uniqueMark } from '../helpers/asgi-fixtures.js';
import { startTogether, type Portico } from '../helpers/portico.js';
import { httpRequest } from '../helpers/http-client.js';
import { RawConnection, rawRequest } from '../helpers/raw-connection.js';

/** Opens `target`, waits for `first` in the body, then leaves; resolves with the moment it left. */
async function leaveAfter(server: Portico, target: string, first: string): Promise<number> {
  const conn = await RawConnection.open(server.port);
  try {
    conn.write(rawRequest('GET', target));
    assert.ok(await conn.waitFor((buf) => buf.includes(first), 5_000), `${first} arrived`);
  } finally {
    conn.destroy();
  }
  return Date.now();
}

describe('ASGI clients that leave mid-response', { timeout: 60_000 }, () => {
  let raw: Portico;
  let fastapi: Portico;
  before(async () => {
    [raw, fastapi] = await startTogether([startAsgi('raw_app:app'), startAsgi('fastapi_app:app')]);
  });
  after(async () => {
    await Promise.all([raw?.stop(), fastapi?.stop()]);
  });

  it('a raw application sees http.disconnect, and its generator\'s finally runs', async () => {
    const mark = uniqueMark('leave');
    const worker = Number((await httpRequest(`${raw.url}/pid`)).text);
    const left = await leaveAfter(raw, `/stream?mark=${mark}`, 'tick 2');
    const disconnect = await fixtureSaid(raw, `http.disconnect mark=${mark}`);
    const closed = await fixtureSaid(raw, `generator finally mark=${mark}`);
    assert.ok(disconnect.at - left < 1_000, `http.disconnect ${disconnect.at - left} ms after the client left`);
    assert.ok(closed.at >= disconnect.at);
    assert.equal(Number((await httpRequest(`${raw.url}/pid`)).text), worker, 'the worker serves on');
    assert.doesNotMatch(raw.logs(), /Error handling request/);
  });

  it("FastAPI's StreamingResponse stops, and its generator's finally runs", async () => {
    const mark = uniqueMark('fastapi-leave');
    const left = await leaveAfter(fastapi, `/stream?count=10000&delay=0.05&mark=${mark}`, 'line 2');
    const closed = await fixtureSaid(fastapi, `stream generator finally mark=${mark}`);
    assert.ok(closed.at - left < 1_000, `the generator was closed ${closed.at - left} ms after the client left`);
    assert.equal((await httpRequest(`${fastapi.url}/items/1`)).status, 200);
  });

  it('an event stream learns of a client that left within a second', async () => {
    const mark = uniqueMark('sse');
    const left = await leaveAfter(raw, `/sse?mark=${mark}`, 'data: event 1');
    const gone = await fixtureSaid(raw, `sse client gone mark=${mark}`);
    assert.ok(gone.at - left < 1_000, `learnt ${gone.at - left} ms after the client left`);
  });

  it('send() after the client left raises an OSError subclass, and the worker serves on', async () => {
    const worker = Number((await httpRequest(`${raw.url}/pid`)).text);
    const mark = uniqueMark('late-send');
    await leaveAfter(raw, `/send-after-leave?mark=${mark}`, 'first part');
    const match = await raw.waitForLog(new RegExp(`send after leave mark=${mark} raised=(\\w+) oserror=(\\w+)`), 5_000);
    assert.equal(match[2], 'True', `send() raised ${match[1]}, which is no OSError`);
    assert.equal(Number((await httpRequest(`${raw.url}/pid`)).text), worker);
  });

  it('an application that lets that OSError propagate is not logged as failing, and the worker serves on', async () => {
    const worker = Number((await httpRequest(`${raw.url}/pid`)).text);
    const mark = uniqueMark('late-send-reraise');
    await leaveAfter(raw, `/send-after-leave?mark=${mark}&reraise=1`, 'first part');
    await raw.waitForLog(new RegExp(`send after leave mark=${mark} raised=\\w+ oserror=True`), 5_000);
    assert.equal(Number((await httpRequest(`${raw.url}/pid`)).text), worker);
    assert.doesNotMatch(raw.logs(), new RegExp(`(Error handling request|Traceback)[^\\n]*\\n?[^\\n]*${mark}`));
    assert.doesNotMatch(raw.logs(), /Error handling request GET \/send-after-leave/);
  });
});
