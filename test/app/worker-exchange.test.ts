/**
 * The exchange's last line of defence on the response side, with Node's real
 * HTTP server and client on loopback and a stand-in worker. The runtime
 * refuses a bad head before it leaves the worker (see
 * test/python/test_executor.py), so no real application reaches this path;
 * it is here for whatever Node refuses that the runtime lets through.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { WebSocketSessions } from '../../src/asgi/websocket-sessions.js';
import { RequestRecord } from '../../src/http/request-record.js';
import { ErrorLog } from '../../src/observability/error-log.js';
import type { WorkerPool } from '../../src/supervisor/worker-pool.js';
import type { WorkerProcess } from '../../src/supervisor/worker-process.js';
import { WorkerExchange } from '../../src/app/worker-exchange.js';
import { exchangeRaw, rawRequest } from '../helpers/raw-connection.js';
import { parseResponses } from '../helpers/raw-response.js';

const WEBSOCKET_SETTINGS = { maxSize: 1 << 20, perMessageDeflate: false, maxQueue: 32, pingIntervalMs: 0, pingTimeoutMs: 0, gracefulTimeoutMs: 1000 };
const CONTEXT = { scheme: 'http', serverName: '127.0.0.1', serverPort: '80', remoteAddr: '127.0.0.1', remotePort: '1', forwardedHost: null } as const;

describe('WorkerExchange response head', () => {
  it('turns a head Node refuses to write (ERR_INVALID_CHAR) into a 500, and stops the worker side', async () => {
    const cancelled: number[] = [];
    let logged = '';
    const logStream = new PassThrough().setEncoding('utf8');
    logStream.on('data', (chunk: string) => (logged += chunk));
    const log = new ErrorLog(logStream, 'debug');
    const worker = { dispatch: () => 7, cancel: (id: number) => cancelled.push(id), pid: 1234 } as unknown as WorkerProcess;
    const pool = { submit: (job: WorkerExchange) => job.startOn(worker), withdraw: () => {} } as unknown as WorkerPool;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const exchange = new WorkerExchange(new RequestRecord(req, res, CONTEXT), { scriptName: '', pathInfo: '/', query: '' }, { pool, log, timeoutSeconds: 0, deadlines: null, limitRequestBody: 0, rootPath: '', websockets: new WebSocketSessions(WEBSOCKET_SETTINGS, log) });
      exchange.start();
      exchange.onStarted();
      // DEL is not a field-vchar (RFC 9110 §5.5); Node's writeHead throws on it.
      exchange.onResponseHead({ status: 200, reason: 'OK', headers: ['X-Bad', 'a\x7fb'] });
      // Whatever the worker still sends for the stream is dropped.
      exchange.onResponseBody(Buffer.from('late'), 4);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const raw = await exchangeRaw(port, rawRequest('GET', '/bad-head'));
      const [response] = parseResponses(raw.received, raw.closed).responses;
      assert.equal(response?.status, 500);
      assert.ok(raw.closed);
      assert.doesNotMatch(raw.text, /X-Bad|late/);
      assert.match(response?.head ?? '', /^Connection: close$/im);
      assert.deepEqual(cancelled, [7]);
      assert.match(logged, /invalid response head for GET \/bad-head/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('WorkerExchange response body in pieces (a frame that straddled the channel\'s reads)', () => {
  /** Serves one request with `respond` as the worker; returns what the client got and the WINDOWs granted. */
  async function serve(respond: (exchange: WorkerExchange) => void): Promise<{ raw: Awaited<ReturnType<typeof exchangeRaw>>; granted: number[] }> {
    const granted: number[] = [];
    const log = new ErrorLog(new PassThrough(), 'debug');
    const worker = { dispatch: () => 7, cancel: () => {}, grantWindow: (_id: number, bytes: number) => granted.push(bytes), pid: 1234 } as unknown as WorkerProcess;
    const pool = { submit: (job: WorkerExchange) => job.startOn(worker), withdraw: () => {} } as unknown as WorkerPool;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const exchange = new WorkerExchange(new RequestRecord(req, res, CONTEXT), { scriptName: '', pathInfo: '/', query: '' }, { pool, log, timeoutSeconds: 0, deadlines: null, limitRequestBody: 0, rootPath: '', websockets: new WebSocketSessions(WEBSOCKET_SETTINGS, log) });
      exchange.start();
      exchange.onStarted();
      respond(exchange);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const raw = await exchangeRaw(port, rawRequest('GET', '/pieces', [['Connection', 'close']]));
      await new Promise((resolve) => setImmediate(resolve));
      return { raw, granted };
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }
  const pieces = [Buffer.from('abc'), Buffer.from('defg'), Buffer.from('hi')];

  it('ends a response whose declared body the pieces complete, all in order', async () => {
    const { raw, granted } = await serve((exchange) => {
      exchange.onResponseHead({ status: 200, reason: 'OK', headers: ['Content-Length', '12'] });
      exchange.onResponseBody(Buffer.from('0'), 1);
      exchange.onResponseBody(pieces, 9);
      exchange.onResponseBody(Buffer.from('yz'), 2);
    });
    const [response] = parseResponses(raw.received, raw.closed).responses;
    assert.equal(response?.status, 200);
    assert.equal(response?.body.toString(), '0abcdefghiyz');
    assert.equal(granted.reduce((a, b) => a + b, 0), 10, 'the window of the bytes before the last comes back');
  });

  it('writes pieces that do not end the response, and gives their window back', async () => {
    const { raw, granted } = await serve((exchange) => {
      exchange.onResponseHead({ status: 200, reason: 'OK', headers: [] });
      exchange.onResponseBody(pieces, 9);
      exchange.onResponseBody(pieces, 9);
      // Later, as RESPONSE_END would come: a stream that is done gets no WINDOW.
      setImmediate(() => exchange.onResponseEnd(false));
    });
    const [response] = parseResponses(raw.received, raw.closed).responses;
    assert.equal(response?.body.toString(), 'abcdefghiabcdefghi');
    assert.equal(granted.reduce((a, b) => a + b, 0), 18);
  });

  it('cuts pieces that overrun the declared length there, and closes the connection', async () => {
    const { raw } = await serve((exchange) => {
      exchange.onResponseHead({ status: 200, reason: 'OK', headers: ['Content-Length', '5'] });
      exchange.onResponseBody(pieces, 9);
    });
    assert.ok(raw.closed);
    assert.match(raw.text, /\r\n\r\nabcde$/);
  });
});
