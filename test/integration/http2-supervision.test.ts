/**
 * Supervision holds on HTTP/2 as on HTTP/1.1 (#16), with the difference
 * that matters: many requests share one connection, so whatever befalls
 * one request must stay on its stream. --timeout's 504 and a worker
 * crash's 502 reach their own stream while the others on the connection
 * are answered; SIGHUP replaces the workers under open streams; SIGTERM
 * sends GOAWAY, lets the open streams finish, and the process exits.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { ClientHttp2Session } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { closeSession, h2Request, openSession } from '../helpers/http2-client.js';
import { startHttps } from '../helpers/https-client.js';
import { FIXTURE_APPS, SYSTEM_PYTHON } from '../helpers/paths.js';
import { startTogether, type Portico } from '../helpers/portico.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';

describe('supervision over HTTP/2', { timeout: 120_000 }, () => {
  let pki: TestPki;

  const start = (app: string, extra: string[]): Promise<Portico> =>
    startHttps({ app, args: ['--certfile', pki.server.chain, '--keyfile', pki.server.key, '--python', SYSTEM_PYTHON, '--pythonpath', FIXTURE_APPS, ...extra] });

  before(() => {
    pki = makeTestPki();
  });

  after(() => pki?.remove());

  describe('one connection, many streams', () => {
    let timeouts: Portico;
    let crashes: Portico;
    let session: ClientHttp2Session;

    before(async () => {
      [timeouts, crashes] = await startTogether([
        start('sleepy_app:application', ['-w', '2', '--timeout', '2', '--mount', '/input=input_app:application', '--body-timeout', '1']),
        start('crash_app:application', ['-w', '2']),
      ]);
    });

    after(async () => {
      if (session !== undefined) await closeSession(session);
      await Promise.all([timeouts?.stop(), crashes?.stop()]);
    });

    it('--timeout: the stuck stream gets 504, the stream beside it 200, and the connection serves on', async () => {
      session = await openSession(timeouts.url, { ca: pki.ca.cert });
      const [stuck, beside] = await Promise.all([
        h2Request(session, '/forever?mark=h2'),
        h2Request(session, '/sleep?s=0.3'),
      ]);
      assert.equal(stuck.status, 504, stuck.text);
      assert.equal(beside.status, 200, beside.text);
      assert.equal(session.destroyed, false, 'a 504 is an answer on one stream, never the connection');
      assert.equal((await h2Request(session, '/pid')).status, 200);
      await closeSession(session);
    });

    it('--body-timeout: a stream whose body stops arriving gets 408, while the stream beside it sends its body and is answered', async () => {
      session = await openSession(timeouts.url, { ca: pki.ca.cert });
      const stalled = session.request({ ':method': 'POST', ':path': '/input/read-all' });
      stalled.on('error', () => {});
      stalled.resume();
      const stalledClosed = new Promise<number>((resolve) => stalled.on('close', () => resolve(stalled.rstCode ?? -1)));
      stalled.write('the first part, then nothing');
      const stalledAnswer = new Promise<number>((resolve) => stalled.on('response', (head) => resolve(Number(head[':status']))));
      // The other stream keeps its body coming for longer than the timeout, a piece at a time.
      const beside = session.request({ ':method': 'POST', ':path': '/input/read-all' });
      const besideChunks: Buffer[] = [];
      beside.on('data', (chunk: Buffer) => besideChunks.push(chunk));
      const besideDone = new Promise<number>((resolve) => beside.on('response', (head) => resolve(Number(head[':status']))));
      for (let i = 0; i < 6; i++) {
        beside.write(`piece ${i};`);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      beside.end();
      assert.equal(await stalledAnswer, 408, 'the stalled stream is answered 408');
      assert.equal(await stalledClosed, 0, 'and ended with RST_STREAM NO_ERROR: the rest of its body is not wanted (RFC 9113 §8.1)');
      assert.equal(await besideDone, 200);
      await new Promise((resolve) => beside.once('close', resolve));
      assert.match(Buffer.concat(besideChunks).toString(), /piece 0;piece 1;piece 2;piece 3;piece 4;piece 5;/);
      assert.equal(session.destroyed, false, 'a body timeout ends its stream, not the connection');
      assert.equal((await h2Request(session, '/pid')).status, 200);
      await closeSession(session);
    });

    it("a worker crash: 502 on the crashed worker's stream only, the other stream and the next are answered", async () => {
      session = await openSession(crashes.url, { ca: pki.ca.cert });
      // Two idle workers: the first request goes to one, the second, sent while it is busy, to the other.
      const crashing = h2Request(session, '/exit-after-headers');
      const beside = h2Request(session, '/sleep?s=0.5');
      const [crashed, served] = await Promise.all([crashing, beside]);
      assert.equal(crashed.status, 200, 'the head went out before the crash');
      assert.equal(crashed.rstCode, 2, 'the cut body ends with RST_STREAM INTERNAL_ERROR, not END_STREAM');
      assert.equal(served.status, 200, served.text);
      const whole = await h2Request(session, '/exit');
      assert.equal(whole.status, 502, 'a crash before the response head is a 502');
      assert.equal((await h2Request(session, '/pid')).status, 200);
      assert.equal(session.destroyed, false);
      await closeSession(session);
    });
  });

  it('SIGHUP: new workers take over under an open stream, which is answered, and the connection serves on', async () => {
    const server = await start('sleepy_app:application', ['-w', '1']);
    let session: ClientHttp2Session | undefined;
    try {
      session = await openSession(server.url, { ca: pki.ca.cert });
      const before = Number((await h2Request(session, '/pid')).text);
      const inFlight = h2Request(session, '/sleep?s=1&mark=hup');
      await server.waitForLog(/sleeping pid=\d+ mark=hup/);
      process.kill(server.pid, 'SIGHUP');
      assert.equal((await inFlight).status, 200);
      await server.waitForLog(/reloaded: new workers ready/);
      const afterPid = Number((await h2Request(session, '/pid')).text);
      assert.notEqual(afterPid, before, 'a new worker answers on the same connection');
    } finally {
      if (session !== undefined) await closeSession(session);
      await server.stop();
    }
  });

  it('SIGTERM: GOAWAY, the open stream finishes, new connections are refused, and the process exits', async () => {
    const server = await start('sleepy_app:application', ['-w', '1', '--graceful-timeout', '10']);
    let session: ClientHttp2Session | undefined;
    try {
      session = await openSession(server.url, { ca: pki.ca.cert });
      const goaway = once(session, 'goaway');
      const inFlight = h2Request(session, '/sleep?s=1.5&mark=term');
      await server.waitForLog(/sleeping pid=\d+ mark=term/);
      const sentAt = Date.now();
      process.kill(server.pid, 'SIGTERM');
      const [code] = (await goaway) as [number];
      assert.equal(code, 0, 'GOAWAY with NO_ERROR: a graceful close (RFC 9113 §6.8)');
      await assert.rejects(openSession(server.url, { ca: pki.ca.cert }), 'no new connection is accepted while draining');
      const answer = await inFlight;
      assert.equal(answer.status, 200, 'the stream open at SIGTERM finishes');
      const status = await server.waitForExit(10_000);
      assert.equal(status.code, 0);
      assert.ok(Date.now() - sentAt < 6_000, `exited ${Date.now() - sentAt} ms after SIGTERM, not at the end of the grace`);
    } finally {
      session?.destroy();
      await server.stop();
    }
  });
});
