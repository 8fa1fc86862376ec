/**
 * Persistent connections: several requests on one socket, pipelining,
 * Connection: close, HTTP/1.0, and the --keep-alive idle timeout.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { RawConnection, rawRequest } from '../helpers/raw-connection.js';

const bodyOf = (response: { body: Buffer } | undefined): { environ: Record<string, string> } =>
  JSON.parse(response?.body.toString('latin1') ?? 'null') as { environ: Record<string, string> };

describe('keep-alive', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startPortico(fixtureApp('echo_environ'));
  });
  after(async () => {
    await server?.stop();
  });

  it('serves several requests one after another on one connection', async () => {
    const conn = await RawConnection.open(server.port);
    try {
      for (const path of ['/one', '/two', '/three']) {
        conn.consume();
        conn.write(rawRequest('GET', path));
        const [response] = await conn.readResponses(1, 5_000);
        assert.equal(response?.status, 200);
        const { environ } = bodyOf(response);
        assert.equal(environ.PATH_INFO, path);
        assert.equal(environ.REMOTE_PORT, String(conn.localPort));
        assert.ok(!conn.closed, `connection still open after ${path}`);
      }
    } finally {
      conn.destroy();
    }
  });

  it('answers pipelined requests in order', async () => {
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(rawRequest('GET', '/p1') + rawRequest('GET', '/p2') + rawRequest('GET', '/p3'));
      const responses = await conn.readResponses(3, 5_000);
      assert.deepEqual(responses.map((r) => bodyOf(r).environ.PATH_INFO), ['/p1', '/p2', '/p3']);
    } finally {
      conn.destroy();
    }
  });

  it('closes after the response when the client sends Connection: close', async () => {
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(rawRequest('GET', '/bye', [['Connection', 'close']]));
      const [response] = await conn.readResponses(1, 5_000);
      assert.equal(response?.status, 200);
      assert.ok(await conn.waitForClose(2_000), 'server closed the connection');
    } finally {
      conn.destroy();
    }
  });

  it('closes after the response to an HTTP/1.0 request without keep-alive', async () => {
    const conn = await RawConnection.open(server.port);
    try {
      conn.write('GET /old HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n');
      assert.ok(await conn.waitForClose(5_000), 'server closed the connection');
      assert.match(conn.text, /^HTTP\/1\.[01] 200/);
    } finally {
      conn.destroy();
    }
  });
});

describe('--keep-alive', { timeout: 60_000 }, () => {
  it('closes a connection idle for longer than --keep-alive seconds', async () => {
    const { app, args } = fixtureApp('echo_environ');
    const server = await startPortico({ app, args: [...args, '--keep-alive', '1'] });
    try {
      const conn = await RawConnection.open(server.port);
      conn.write(rawRequest('GET', '/idle'));
      await conn.readResponses(1, 5_000);
      const started = Date.now();
      const closed = await conn.waitForClose(4_000);
      conn.destroy();
      assert.ok(closed, 'closed within 4 s of a 1 s keep-alive');
      assert.ok(Date.now() - started >= 500, 'not closed at once');
    } finally {
      await server.stop();
    }
  });

  it('closes an idle connection after --keep-alive 2 seconds, not a second later (issue #20)', async () => {
    const { app, args } = fixtureApp('echo_environ');
    const server = await startPortico({ app, args: [...args, '--keep-alive', '2'] });
    try {
      const conn = await RawConnection.open(server.port);
      conn.write(rawRequest('GET', '/idle'));
      const [response] = await conn.readResponses(1, 5_000);
      const idleSince = performance.now();
      const closed = await conn.waitForClose(5_000);
      const idleMs = performance.now() - idleSince;
      conn.destroy();
      assert.match(response?.head ?? '', /^Keep-Alive: timeout=2$/im, 'it says how long');
      assert.ok(closed, 'closed');
      // Node's timers fire on time to a few ms; the rest is this machine's scheduling.
      assert.ok(idleMs >= 1_950 && idleMs < 2_500, `closed after ${Math.round(idleMs)} ms idle`);
    } finally {
      await server.stop();
    }
  });

  it('keeps no idle timer while a pipelined request runs longer than --keep-alive', async () => {
    const { app, args } = fixtureApp('sleepy_app');
    const server = await startPortico({ app, args: [...args, '--keep-alive', '1'] });
    try {
      const conn = await RawConnection.open(server.port);
      conn.write(rawRequest('GET', '/pid') + rawRequest('GET', '/sleep?s=1.6'));
      const responses = await conn.readResponses(2, 10_000);
      conn.destroy();
      assert.deepEqual(responses.map((r) => r.status), [200, 200]);
    } finally {
      await server.stop();
    }
  });

  it('closes every connection after its response with --keep-alive 0, as gunicorn does', async () => {
    const { app, args } = fixtureApp('echo_environ');
    const server = await startPortico({ app, args: [...args, '--keep-alive', '0'] });
    try {
      const conn = await RawConnection.open(server.port);
      conn.write(rawRequest('GET', '/only'));
      const [response] = await conn.readResponses(1, 5_000);
      const closed = await conn.waitForClose(1_000);
      conn.destroy();
      assert.equal(response?.status, 200);
      assert.match(response?.head ?? '', /^Connection: close$/im);
      assert.ok(closed, 'closed after the response, not left open');
    } finally {
      await server.stop();
    }
  });

  it('keeps an idle connection open within --keep-alive seconds', async () => {
    const { app, args } = fixtureApp('echo_environ');
    const server = await startPortico({ app, args: [...args, '--keep-alive', '5'] });
    try {
      const conn = await RawConnection.open(server.port);
      try {
        conn.write(rawRequest('GET', '/first'));
        await conn.readResponses(1, 5_000);
        assert.equal(await conn.waitForClose(2_000), false, 'still open after 2 s');
        conn.consume();
        conn.write(rawRequest('GET', '/second'));
        const [response] = await conn.readResponses(1, 5_000);
        assert.equal(bodyOf(response).environ.PATH_INFO, '/second');
      } finally {
        conn.destroy();
      }
    } finally {
      await server.stop();
    }
  });
});
