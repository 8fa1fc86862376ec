/**
 * The request limits at their defaults and at 0, and --max-connections,
 * against the real server with Python workers: each limit is met exactly at
 * its boundary, with its own status, and 0 means what --help says it means.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startEchoServer, type EchoServer } from '../conformance/conformance-server.js';
import { exchange } from '../conformance/raw-exchange.js';
import { RawConnection } from '../helpers/raw-connection.js';

const bytes = (text: string): Buffer[] => [Buffer.from(text, 'latin1')];

/** A GET whose request line (method SP target SP version, no CRLF) is exactly `length` bytes. */
function requestLineOf(length: number): string {
  const target = `/${'a'.repeat(length - 'GET / HTTP/1.1'.length)}`;
  return `GET ${target} HTTP/1.1`;
}

/** A request with exactly `count` header fields, Host included. */
function withFields(count: number): string {
  const extra = Array.from({ length: count - 1 }, (_, i) => `X-${i}: v\r\n`).join('');
  return `GET /fields HTTP/1.1\r\nHost: a\r\n${extra}\r\n`;
}

/** A request with one field line `X-Big: ...` of exactly `size` bytes counted as `Name: value`. */
function withFieldOf(size: number): string {
  return `GET /field HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(size - 'X-Big: '.length)}\r\n\r\n`;
}

async function statusOf(port: number, request: string): Promise<number> {
  const result = await exchange(port, bytes(request), (finals) => finals.length >= 1);
  return result.finals[0]?.status ?? 0;
}

/**
 * Sends the head of a request with Expect: 100-continue and a body it never
 * sends: 100 means the request was admitted and the application began to
 * read, a final status means it was refused at the door.
 */
async function admitsDeclaredBody(port: number, contentLength: number): Promise<number> {
  const conn = await RawConnection.open(port);
  try {
    conn.write(`POST /big HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: ${contentLength}\r\n\r\n`);
    const answered = await conn.waitFor((received) => /^HTTP\/1\.1 \d{3} /.test(received.toString('latin1')), 10_000);
    assert.ok(answered, 'no answer to the head');
    return Number(conn.text.slice(9, 12));
  } finally {
    conn.destroy();
  }
}

describe('limits at their defaults (gunicorn: 4094, 100, 8190; 1 GiB body)', { timeout: 45_000 }, () => {
  let server: EchoServer;
  before(async () => {
    server = await startEchoServer();
  });
  after(async () => server?.stop());

  test('a 4094-byte request line is served, a 4095-byte one gets 414', async () => {
    const port = server.portico.port;
    assert.equal(await statusOf(port, `${requestLineOf(4094)}\r\nHost: a\r\n\r\n`), 200);
    assert.equal(await statusOf(port, `${requestLineOf(4095)}\r\nHost: a\r\n\r\n`), 414);
  });

  test('100 header fields are served, 101 get 431', async () => {
    const port = server.portico.port;
    assert.equal(await statusOf(port, withFields(100)), 200);
    assert.equal(await statusOf(port, withFields(101)), 431);
  });

  test('an 8190-byte field is served, an 8191-byte one gets 431', async () => {
    const port = server.portico.port;
    assert.equal(await statusOf(port, withFieldOf(8190)), 200);
    assert.equal(await statusOf(port, withFieldOf(8191)), 431);
  });

  test('a declared body of 1 GiB is admitted, 1 GiB + 1 gets 413 before any worker sees it', async () => {
    const port = server.portico.port;
    // Fences: the one worker runs requests in order, and the app logs each
    // before answering it, so once a fence is answered every request that
    // reached the app before it is in the log.
    assert.equal(server.portico.workers, 1, 'the fences need one worker');
    assert.equal(await statusOf(port, 'GET /fence-before HTTP/1.1\r\nHost: a\r\n\r\n'), 200);
    const before = server.seen().length;
    assert.equal(await admitsDeclaredBody(port, 1024 ** 3 + 1), 413);
    assert.equal(await statusOf(port, 'GET /fence-after HTTP/1.1\r\nHost: a\r\n\r\n'), 200);
    assert.deepEqual(server.seen().slice(before), [['GET', '/fence-after']], 'the refused request reached the application');
    // Last: the application is left waiting for a body that never comes (until the client's close reaches it).
    assert.equal(await admitsDeclaredBody(port, 1024 ** 3), 100);
  });
});

describe('limits at 0', { timeout: 45_000 }, () => {
  let server: EchoServer;
  before(async () => {
    server = await startEchoServer(['--limit-request-line', '0', '--limit-request-fields', '0', '--limit-request-field_size', '0', '--limit-request-body', '0']);
  });
  after(async () => server?.stop());

  test('--limit-request-line 0: no limit on the request line', async () => {
    const result = await exchange(server.portico.port, bytes(`${requestLineOf(20_000)}\r\nHost: a\r\n\r\n`), (finals) => finals.length >= 1);
    assert.equal(result.finals[0]?.status, 200);
    assert.equal(JSON.parse(result.finals[0]?.body.toString('latin1') ?? '{}').PATH_INFO.length, 20_000 - 'GET  HTTP/1.1'.length);
  });

  test("--limit-request-field_size 0: no limit on a field's size", async () => {
    assert.equal(await statusOf(server.portico.port, withFieldOf(20_000)), 200);
  });

  test("--limit-request-fields 0: gunicorn's ceiling of 32768 fields, not none", async () => {
    const port = server.portico.port;
    assert.equal(await statusOf(port, withFields(101)), 200);
    assert.equal(await statusOf(port, withFields(32768)), 200);
    assert.equal(await statusOf(port, withFields(32769)), 431);
  });

  test('--limit-request-body 0: no limit, for a declared length and for a chunked body', async () => {
    const port = server.portico.port;
    const chunk = 'c'.repeat(64 * 1024);
    const chunked = `POST /chunked HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${`${(64 * 1024).toString(16)}\r\n${chunk}\r\n`.repeat(32)}0\r\n\r\n`;
    const result = await exchange(port, bytes(chunked), (finals) => finals.length >= 1);
    assert.equal(result.finals[0]?.status, 200);
    assert.equal(JSON.parse(result.finals[0]?.body.toString('latin1') ?? '{}').body.length, 2 * 1024 * 1024);
    // Over the default limit (which refuses it with 413 above): admitted. Last, as above.
    assert.equal(await admitsDeclaredBody(port, 1024 ** 3 + 1), 100);
  });
});

describe('--max-connections', { timeout: 30_000 }, () => {
  let server: EchoServer;
  before(async () => {
    server = await startEchoServer(['--max-connections', '2', '--keep-alive', '30']);
  });
  after(async () => server?.stop());

  const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`;

  test('N connections are held, the N+1th is closed unanswered, and a freed slot is served again', async () => {
    const port = server.portico.port;
    const held = [await RawConnection.open(port), await RawConnection.open(port)];
    try {
      // Each answered once and kept alive: both are surely counted.
      for (const [i, conn] of held.entries()) {
        conn.write(get(`/held-${i}`));
        assert.equal((await conn.readResponses(1))[0]?.status, 200);
        conn.consume();
      }
      const third = await RawConnection.open(port);
      try {
        third.write(get('/third'));
        assert.ok(await third.waitForClose(5_000), 'the connection past --max-connections was not closed');
        assert.equal(third.received.length, 0, 'the connection past --max-connections got an answer');
      } finally {
        third.destroy();
      }
      // The held ones are unaffected.
      held[1]?.write(get('/held-again'));
      assert.equal((await held[1]?.readResponses(1))?.[0]?.status, 200);
      held[1]?.consume();

      held[0]?.destroy();
      // The server learns of the close asynchronously: a new connection is served once it has.
      let status = 0;
      for (const deadline = Date.now() + 5_000; status !== 200 && Date.now() < deadline; ) {
        const result = await exchange(port, bytes(get('/after')), (finals) => finals.length >= 1, 1_000);
        status = result.finals[0]?.status ?? 0;
        if (status !== 200) await delay(50);
      }
      assert.equal(status, 200, 'no connection served after one of the held ones closed');
    } finally {
      for (const conn of held) conn.destroy();
    }
  });
});
