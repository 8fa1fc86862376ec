/**
 * Replays the raw-request corpus against portico, each case whole, byte by
 * byte and in seeded random pieces, with a valid request pipelined behind
 * it: a valid case must yield both responses (its framing ended exactly
 * where it should), an invalid one its status, a closed connection, and
 * nothing behind it ever parsed as a request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { header } from '../helpers/raw-response.js';
import { invalidCases, seededRandom, splitBytes, validCases, type InvalidCase, type SendMode } from './corpus.js';
import { ECHO_ID_HEADER, requestsByPort, startCorpusServer, type EchoServer } from './conformance-server.js';
import { exchange } from './raw-exchange.js';

const SENTINEL = sentinelFor('');

/**
 * A request to pipeline behind a case. Its path names the case, so that a
 * sentinel reaching the app is told apart by what it asked for, not by the
 * connection it came on: the kernel reuses client ports, and a port an
 * earlier test's connection had may come back for a later case's.
 */
function sentinelFor(name: string): Buffer {
  return Buffer.from(`GET /__sentinel__${name === '' ? '' : `/${name}`} HTTP/1.1\r\nHost: sentinel.example\r\n\r\n`, 'latin1');
}

const MODES: SendMode[] = ['whole', 'bytewise', 'random'];

describe('conformance corpus, direct', { timeout: 180_000 }, () => {
  let server: EchoServer;
  before(async () => {
    server = await startCorpusServer();
  });
  after(async () => {
    await server?.stop();
  });

  test('the corpus is large enough', () => {
    assert.ok(invalidCases().length >= 60, `${invalidCases().length} invalid cases`);
    assert.ok(validCases().length >= 30, `${validCases().length} valid cases`);
  });

  for (const mode of MODES) {
    test(`invalid requests are refused (${mode})`, async () => {
      const random = seededRandom(17);
      const failures: string[] = [];
      const logStart = server.requests().length;
      const casesByPort = new Map<number, InvalidCase[]>();
      for (const c of invalidCases()) {
        const result = await exchange(server.portico.port, splitBytes(Buffer.concat([c.bytes, sentinelFor(`${mode}/${c.name}`)]), mode, random), () => false);
        casesByPort.set(result.localPort, [...(casesByPort.get(result.localPort) ?? []), c]);
        const statuses = result.finals.map((r) => r.status);
        if (result.malformed !== null || result.wireProblem !== null) failures.push(`${c.name}: malformed response: ${result.malformed ?? result.wireProblem}`);
        else if (statuses.length !== 1 || statuses[0] !== c.status) failures.push(`${c.name}: statuses ${JSON.stringify(statuses)}, want [${c.status}]`);
        else if (!result.closed) failures.push(`${c.name}: connection left open`);
        else if (header(result.finals[0]!, 'connection')?.toLowerCase() !== 'close') failures.push(`${c.name}: refusal without Connection: close`);
      }
      // What the app saw, looked at once the log is quiet: a head that
      // reaches the app is logged on arrival, which can come after the
      // refusal reached the client.
      await server.quiesce();
      const requests = server.requests().slice(logStart);
      for (const request of requests) {
        if (request.uri.startsWith('/__sentinel__')) failures.push(`${request.uri.split('/').pop()}: the pipelined request behind it reached the app`);
      }
      // Heads are told apart by connection (the app logs REMOTE_PORT); cases
      // whose connections had the same port are judged together.
      const seenOn = requestsByPort(requests.filter((r) => !r.uri.startsWith('/__sentinel__')));
      for (const [port, cases] of casesByPort) {
        const seen = (seenOn.get(port) ?? []).map((r) => `${r.method} ${r.uri}`);
        const allowed = cases.filter((c) => c.headReachesApp).length;
        if (seen.length > allowed) failures.push(`${cases.map((c) => c.name).join(', ')}: the app saw ${JSON.stringify(seen)}`);
      }
      assert.deepEqual(failures, []);
    });

    test(`valid requests reach the app exactly (${mode})`, async () => {
      const random = seededRandom(42);
      const failures: string[] = [];
      for (const c of validCases()) {
        const want = c.keepAlive ? 2 : 1;
        const before = server.seen().length;
        const result = await exchange(server.portico.port, splitBytes(Buffer.concat([c.bytes, SENTINEL]), mode, random), (finals) => finals.length >= want);
        const statuses = result.finals.map((r) => r.status);
        const status = c.frontAnswers?.status ?? 200;
        if (result.malformed !== null || result.wireProblem !== null || statuses.length !== want || statuses[0] !== status || statuses[1] !== (want === 2 ? 200 : undefined)) {
          failures.push(`${c.name}: statuses ${JSON.stringify(statuses)} ${result.malformed ?? result.wireProblem ?? ''} ${result.received.toString('latin1').slice(0, 200)}`);
          continue;
        }
        if (want === 2 && JSON.parse(result.finals[1]!.body.toString('latin1')).PATH_INFO !== '/__sentinel__') failures.push(`${c.name}: second response is not the sentinel's`);
        if (c.frontAnswers !== undefined) {
          // Answered by portico itself: the app sees nothing but the sentinel.
          const response = result.finals[0]!;
          for (const name of c.frontAnswers.headers) if (header(response, name) === undefined) failures.push(`${c.name}: no ${name} header in portico's answer`);
          if (header(response, ECHO_ID_HEADER) !== undefined) failures.push(`${c.name}: answered by the app, not by portico`);
          const seen = server.seen().slice(before).filter(([, uri]) => !uri.includes('__sentinel__'));
          if (seen.length > 0) failures.push(`${c.name}: the app saw ${JSON.stringify(seen)}`);
          continue;
        }
        const environ = JSON.parse(result.finals[0]!.body.toString('latin1')) as Record<string, string>;
        for (const [key, value] of Object.entries(c.environ)) {
          if (value === null ? key in environ : environ[key] !== value) failures.push(`${c.name}: ${key} is ${JSON.stringify(environ[key])}, want ${JSON.stringify(value)}`);
        }
        if (c.body !== undefined && environ.body !== c.body) failures.push(`${c.name}: body ${JSON.stringify(environ.body)}, want ${JSON.stringify(c.body)}`);
      }
      assert.deepEqual(failures, []);
    });
  }
});
