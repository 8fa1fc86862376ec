/**
 * A bounded fuzz run (300 mutated requests, seeded); scripts/fuzz-http.mjs
 * runs long ones. Before it, the checks the run relies on are shown to fail
 * when they should: a run that cannot fail proves nothing.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { parseStrictResponses, type RawResponse } from '../helpers/raw-response.js';
import { startCorpusServer, type AppRequest, type EchoServer } from './conformance-server.js';
import { accountConnection, EXCHANGE_TIMEOUT_MS, fuzz, LIVENESS_EVERY } from './fuzz.js';
import { exchange } from './raw-exchange.js';

const COUNT = 300;

describe('the fuzzer’s checks', () => {
  const wire = (text: string, closed: boolean): string | null => parseStrictResponses(Buffer.from(text, 'latin1'), closed).problem;
  const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi';

  test('well formed: complete responses pass, whatever follows them fails', () => {
    assert.equal(wire(ok + ok, true), null);
    assert.equal(wire('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n', true), null);
    assert.equal(wire('HTTP/1.1 200 OK\r\n\r\nto the close', true), null);
    // Still arriving on an open connection: not (yet) a problem.
    assert.equal(wire(ok + 'HTTP/1.1 2', false), null);
    assert.match(wire(ok + 'junk', true) ?? '', /response 2: not a status line/);
    assert.match(wire(ok + 'HTTP/1.1 2', true) ?? '', /closed 10 bytes into response 2/);
    assert.match(wire(ok + '\r\n', true) ?? '', /response 2: bad status line/);
    assert.match(wire('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhi', true) ?? '', /2 of 5 body bytes/);
    assert.match(wire('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n', true) ?? '', /closed/);
  });

  test('well formed: bad framing and grammar fail', () => {
    for (const cl of ['0x2', '+2', ' 2 2', '2, 2', '', '-2', '2.0']) {
      assert.notEqual(wire(`HTTP/1.1 200 OK\r\nContent-Length: ${cl}\r\n\r\nhi`, true), null, `Content-Length: ${cl}`);
    }
    assert.match(wire('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nhi', true) ?? '', /2 Content-Length fields/);
    assert.match(wire('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n', true) ?? '', /both/);
    assert.match(wire('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiX\r\n0\r\n\r\n', true) ?? '', /not followed by CRLF/);
    assert.match(wire('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', true) ?? '', /status line/);
    assert.match(wire('HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 0\r\n\r\n', true) ?? '', /header field line/);
    assert.match(wire('HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 0\r\n\r\n', true) ?? '', /bare CR or LF/);
    assert.match(wire('HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n', true) ?? '', /204 with Content-Length/);
    assert.match(wire('garbage', true) ?? '', /not a status line/);
  });

  test('per connection: a request the app saw and answered must be answered on its connection', () => {
    const request = (id: string, completed = true): AppRequest => ({ id, method: 'GET', uri: `/${id}`, port: 1, completed });
    const answer = (id: string): RawResponse => ({ version: 'HTTP/1.1', status: 200, reason: 'OK', headers: [['X-Echo-Id', id]], head: '', body: Buffer.alloc(0), framing: 'content-length' });
    const refusal: RawResponse = { version: 'HTTP/1.1', status: 400, reason: 'Bad Request', headers: [], head: '', body: Buffer.alloc(0), framing: 'content-length' };
    const problems = (requests: AppRequest[], responses: RawResponse[]): number => accountConnection(requests, responses).problems.length;
    assert.equal(problems([request('a'), request('b')], [answer('a'), answer('b')]), 0);
    // Its body refused or cut short: the app never finished it, so no answer of its own.
    assert.equal(problems([request('a'), request('b', false)], [answer('a'), refusal]), 0);
    // Answered after the client's half-close, nothing refused: Node drops it, tolerated and counted.
    assert.deepEqual(accountConnection([request('a'), request('b')], [answer('a')]), { problems: [], droppedAtHalfClose: 1 });
    // Smuggled past a refusal: the app saw (and answered) a request portico had refused the connection before.
    assert.equal(problems([request('b')], [refusal]), 1);
    assert.equal(problems([request('a'), request('b')], [answer('a'), refusal]), 1);
    // Never answered, and more after it on the same connection.
    assert.equal(problems([request('a'), request('b')], [answer('b')]), 1);
    assert.equal(problems([request('a', false), request('b')], [answer('b')]), 1);
    // An answer for a request the app saw on another connection.
    assert.equal(problems([], [answer('z')]), 1);
  });

  test('never stops answering: an exchange the server neither answers nor closes is a hang', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => sockets.add(socket));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const port = (silent.address() as { port: number }).port;
      const result = await exchange(port, [Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')], () => false, 200, true);
      assert.equal(result.timedOut, true);
      assert.equal(result.closed, false);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});

describe('fuzzing the front', { timeout: 90_000 }, () => {
  let server: EchoServer;
  before(async () => {
    // The corpus's small limits too, so that mutations cross them.
    server = await startCorpusServer(['--headers-timeout', '1', '--body-timeout', '1']);
  });
  after(async () => {
    await server?.stop();
  });

  test(`${COUNT} mutated requests: well-formed answers, nothing unanswered reaches the app, still serving`, async (t) => {
    const report = await fuzz(server, COUNT, 20260101);
    t.diagnostic(`statuses: ${JSON.stringify(report.byStatus)}; closed unanswered: ${report.closedUnanswered}; the app saw ${report.appSaw} and answered ${report.appAnswered} (${report.droppedAtHalfClose} dropped at the client's half-close); ${report.livenessChecks} liveness checks`);
    assert.deepEqual(report.problems, []);
    assert.equal(report.sent, COUNT);
    assert.equal(report.hangs, 0, `exchanges with no end within ${EXCHANGE_TIMEOUT_MS} ms`);
    assert.equal(report.livenessChecks, Math.ceil(COUNT / LIVENESS_EVERY));
    // The run must exercise both sides: mutations the app serves and ones portico refuses.
    assert.ok(report.appAnswered > COUNT / 10, `only ${report.appAnswered} requests reached the app`);
    assert.ok(Object.keys(report.byStatus).some((status) => Number(status) >= 400), 'nothing was refused');
    assert.equal(server.portico.process.exitCode, null, 'portico is still running');
  });
});
