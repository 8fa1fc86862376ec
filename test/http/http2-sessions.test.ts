/**
 * Http2Sessions serves each stream on the stream API, with the answers
 * Node's compatibility layer gave of its own kept (CONNECT 405, an
 * expectation other than 100-continue 417), and the response events the
 * front waits for ('finish' then 'close', for HEAD too) in their order.
 */
import assert from 'node:assert/strict';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Http2Sessions } from '../../src/http/http2-sessions.js';
import type { Http2Request } from '../../src/http/http2-messages.js';
import type { Http2Response } from '../../src/http/http2-response.js';

const OPTIONS = { maxConcurrentStreams: 100, maxHeaderListSize: 65536, initialWindowSize: 65535, requestFields: 100, idleTimeoutMs: 5000, stallTimeoutMs: 5000 };

describe('HTTP/2 sessions on the stream API', () => {
  const served: Array<{ method: string; events: string[] }> = [];
  let sessions: Http2Sessions;
  let client: ClientHttp2Session;

  before(async () => {
    sessions = new Http2Sessions(OPTIONS, (req: Http2Request, res: Http2Response) => {
      const seen = { method: req.method, events: [] as string[] };
      served.push(seen);
      res.on('finish', () => seen.events.push('finish'));
      res.on('close', () => seen.events.push('close'));
      if (req.headers.expect === '100-continue') res.writeContinue();
      res.writeHead(200, ['Content-Type', 'text/plain', 'Content-Length', '2']);
      // Node ends a HEAD stream at respond(): the response finishes with end(), later.
      setTimeout(() => {
        seen.events.push('end');
        res.end(req.method === 'HEAD' ? undefined : 'ok');
      }, 20);
    }, () => {});
    await new Promise<void>((resolve) => sessions.server.listen(0, '127.0.0.1', resolve));
    client = connect(`http://127.0.0.1:${(sessions.server.address() as AddressInfo).port}`);
    client.on('error', () => {});
  });

  after(async () => {
    client.close();
    sessions.closeAll();
    await new Promise((resolve) => sessions.server.close(resolve));
  });

  it('answers CONNECT 405 itself (RFC 9113 §8.5): no mount serves it', async () => {
    const answer = await request(client, { ':method': 'CONNECT', ':authority': 'example.com:443' }, false);
    assert.equal(answer.headers[':status'], 405);
    assert.equal(served.length, 0);
  });

  it('answers an expectation other than 100-continue 417 itself (RFC 9110 §10.1.1)', async () => {
    const answer = await request(client, { ':path': '/', expect: 'teapot' });
    assert.equal(answer.headers[':status'], 417);
    assert.equal(served.length, 0);
  });

  it('hands 100-continue to the application, which sends the 100', async () => {
    const answer = await request(client, { ':method': 'POST', ':path': '/', expect: '100-continue' }, false);
    assert.equal(answer.headers[':status'], 200);
    assert.deepEqual(answer.informational, [100]);
    assert.equal(answer.body, 'ok');
  });

  it("emits 'finish' then 'close' once the stream closes, and for HEAD not before end()", async () => {
    served.length = 0;
    const get = await request(client, { ':path': '/' });
    const head = await request(client, { ':method': 'HEAD', ':path': '/' });
    assert.equal(get.body, 'ok');
    assert.equal(head.headers[':status'], 200);
    assert.equal(head.body, '');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(served.map((seen) => [seen.method, seen.events]), [
      ['GET', ['end', 'finish', 'close']],
      ['HEAD', ['end', 'finish', 'close']],
    ]);
  });
});

interface Answer {
  headers: IncomingHttpHeaders;
  informational: number[];
  body: string;
}

function request(client: ClientHttp2Session, headers: OutgoingHttpHeaders, endStream = true): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = client.request(headers, { endStream });
    const informational: number[] = [];
    let answer: IncomingHttpHeaders = {};
    let body = '';
    stream.on('headers', (head: IncomingHttpHeaders) => informational.push(Number(head[':status'])));
    stream.once('response', (head: IncomingHttpHeaders) => {
      answer = head;
      if (!endStream) stream.end();
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.once('close', () => resolve({ headers: answer, informational, body }));
    stream.once('error', reject);
  });
}
