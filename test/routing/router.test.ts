/**
 * The router over stand-in handlers on a real HTTP server: dispatch by
 * longest prefix with the record filled in, the answers it gives itself
 * (OPTIONS *, 404, 400), and a local redirect served anew as a GET.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { RequestRecord } from '../../src/http/request-record.js';
import { ErrorLog } from '../../src/observability/error-log.js';
import type { MountHandler, MountMatch } from '../../src/routing/mount-handler.js';
import { MountTable } from '../../src/routing/mount-table.js';
import { Router, SERVER_METHODS } from '../../src/routing/router.js';
import { exchangeRaw, rawRequest } from '../helpers/raw-connection.js';
import { header, parseResponses } from '../helpers/raw-response.js';

/** Answers with what it was given, and remembers the records it served. */
function echoHandler(kind: string, seen: RequestRecord[], onHandle?: (request: RequestRecord) => boolean): MountHandler {
  return {
    kind,
    handle(request: RequestRecord, match: MountMatch): void {
      seen.push(request);
      if (onHandle?.(request) === true) return;
      const body = JSON.stringify({ kind, method: request.req.method, ...match, contentType: request.req.headers['content-type'] ?? null });
      request.bodyBytes += body.length;
      request.res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(body.length) }).end(body);
    },
  };
}

describe('Router', () => {
  const seen: RequestRecord[] = [];
  let router: Router;
  let server: Server;
  let port: number;

  before(async () => {
    const redirecting = echoHandler('cgi', seen, (request) => {
      if (!request.req.url?.startsWith('/cgi/redirect')) return false;
      request.bodyBytes = 99;
      router.redirect(request, '/app/landing?from=cgi');
      return true;
    });
    const table = new MountTable([
      { prefix: '', handler: echoHandler('root', seen) },
      { prefix: '/app', handler: echoHandler('app', seen) },
      { prefix: '/cgi', handler: redirecting },
    ]);
    router = new Router(table, new ErrorLog(new PassThrough().resume(), 'critical'));
    server = createServer((req, res) =>
      router.route(new RequestRecord(req, res, { scheme: 'http', serverName: '127.0.0.1', serverPort: '0', remoteAddr: '127.0.0.1', remotePort: '0', forwardedHost: null })),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  after(() => server.close());

  async function get(target: string, method = 'GET', headers: Array<[string, string]> = [], body = ''): Promise<{ status: number; allow: string | undefined; body: string }> {
    const { received, closed } = await exchangeRaw(port, rawRequest(method, target, [['Connection', 'close'], ...headers], body));
    const [response] = parseResponses(received, closed).responses;
    assert.ok(response !== undefined);
    return { status: response.status, allow: header(response, 'allow'), body: response.body.toString('latin1') };
  }

  it('hands a request to the longest matching prefix, with the record naming the mount', async () => {
    seen.length = 0;
    const response = await get('/app/items/7?x=1');
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body), { kind: 'app', method: 'GET', scriptName: '/app', pathInfo: '/items/7', query: 'x=1', contentType: null });
    assert.equal(seen[0]?.mount, '/app');
    assert.equal(seen[0]?.kind, 'app');
    assert.equal(JSON.parse((await get('/application')).body).kind, 'root', 'prefixes match whole segments');
  });

  it('answers OPTIONS * itself, naming the methods it passes on', async () => {
    const response = await get('*', 'OPTIONS');
    assert.equal(response.status, 200);
    assert.equal(response.allow, SERVER_METHODS);
  });

  it('refuses a path that climbs above the root with 400, and no mount sees it', async () => {
    seen.length = 0;
    assert.equal((await get('/app/../../etc/passwd')).status, 400);
    assert.equal(seen.length, 0);
  });

  it('answers 404 where no mount serves the path', async () => {
    const table = new MountTable([{ prefix: '/only', handler: echoHandler('only', []) }]);
    const lone = new Router(table, new ErrorLog(new PassThrough().resume(), 'critical'));
    const other = createServer((req, res) =>
      lone.route(new RequestRecord(req, res, { scheme: 'http', serverName: '127.0.0.1', serverPort: '0', remoteAddr: '127.0.0.1', remotePort: '0', forwardedHost: null })),
    );
    other.listen(0, '127.0.0.1');
    await once(other, 'listening');
    try {
      const { received, closed } = await exchangeRaw((other.address() as AddressInfo).port, rawRequest('GET', '/elsewhere', [['Connection', 'close']]));
      assert.equal(parseResponses(received, closed).responses[0]?.status, 404);
    } finally {
      other.close();
    }
  });

  it('serves a local redirect anew as a GET without the body headers, on the same record, counting only its bytes', async () => {
    seen.length = 0;
    const response = await get('/cgi/redirect', 'POST', [['Content-Type', 'text/plain'], ['Content-Length', '4']], 'data');
    assert.deepEqual(JSON.parse(response.body), { kind: 'app', method: 'GET', scriptName: '/app', pathInfo: '/landing', query: 'from=cgi', contentType: null });
    assert.equal(seen.length, 2);
    assert.equal(seen[0], seen[1], 'one record follows the request through the redirect');
    assert.equal(seen[1]?.mount, '/app');
    assert.equal(seen[1]?.bodyBytes, response.body.length);
  });
});
