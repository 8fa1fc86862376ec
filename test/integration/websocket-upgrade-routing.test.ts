/**
 * Upgrade requests routed like any other (issue #14). Only an ASGI
 * application's WebSocket switches protocols: an upgrade to a WSGI mount
 * gets the application's own response, to a CGI or static mount the
 * script's output or the file, as plain HTTP, never a 101 and never a hang.
 * On the ASGI mount: the Origin header reaches the application as it was
 * sent, and an application may deny with a response of its own.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Portico } from '../helpers/portico.js';
import { startPortico } from '../helpers/portico.js';
import { FIXTURE_APPS } from '../helpers/paths.js';
import { RawConnection } from '../helpers/raw-connection.js';
import { WEB_TREE } from '../helpers/web-fixtures.js';
import { WS_ARGS } from '../helpers/websocket-fixtures.js';
import { handshakeRequest } from '../helpers/websocket-frames.js';
import { closeAll, refusalOf, WsClient, wsUrl } from '../helpers/websocket-client.js';

describe('WebSocket upgrades across mounts', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startPortico({
      app: 'raw_ws:app',
      args: [
        ...WS_ARGS,
        '-w', '1',
        '--pythonpath', FIXTURE_APPS,
        '--mount', '/wsgi=echo_environ:application',
        '--cgi', `/cgi-bin/=${join(WEB_TREE, 'cgi-bin')}`,
        '--static', `/static/=${join(WEB_TREE, 'public')}`,
      ],
    });
  });
  after(async () => {
    closeAll();
    await server?.stop();
  });

  /** A valid WebSocket handshake to `path`: the one response it gets, and whether the server then closed. */
  async function upgradeTo(path: string): Promise<{ status: number; headers: Array<[string, string]>; body: Buffer; closed: boolean; raw: string }> {
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(handshakeRequest(path, [['Origin', 'http://example.test']]));
      const [response] = await conn.readResponses(1, 5_000);
      assert.ok(response !== undefined);
      const closed = await conn.waitForClose(5_000);
      return { status: response.status, headers: response.headers, body: response.body, closed, raw: conn.text.slice(0, 300) };
    } finally {
      conn.destroy();
    }
  }

  it("answers an upgrade to a WSGI mount with the application's own response, then closes", async () => {
    const answer = await upgradeTo('/wsgi/chat?x=1');
    assert.equal(answer.status, 200, answer.raw);
    assert.ok(!answer.headers.some(([n]) => n.toLowerCase() === 'upgrade'), 'no Upgrade field');
    const echo = JSON.parse(answer.body.toString('latin1')) as { environ: Record<string, string> };
    assert.equal(echo.environ.SCRIPT_NAME, '/wsgi');
    assert.equal(echo.environ.PATH_INFO, '/chat');
    assert.equal(echo.environ.HTTP_UPGRADE, 'websocket', 'the WSGI application sees the request as it came');
    assert.ok(answer.closed, 'the connection closes after a refused upgrade');
  });

  it("answers an upgrade to a CGI mount with the script's output", async () => {
    const answer = await upgradeTo('/cgi-bin/where.sh/extra');
    assert.equal(answer.status, 200, answer.raw);
    assert.match(answer.body.toString(), /SCRIPT_NAME=\/cgi-bin\/where\.sh\nPATH_INFO=\/extra/);
    assert.ok(answer.closed);
  });

  it('answers an upgrade to a static mount with the file', async () => {
    const answer = await upgradeTo('/static/hello.txt');
    assert.equal(answer.status, 200, answer.raw);
    assert.equal(answer.body.toString(), 'hello from public/\n');
    assert.ok(answer.closed);
    const missing = await upgradeTo('/static/none.txt');
    assert.equal(missing.status, 404);
  });

  it('switches protocols on the ASGI mount, beside them', async () => {
    const client = await WsClient.open(wsUrl(server.url, '/echo'));
    assert.match(await client.nextText(), /^pid \d+$/);
    assert.equal((await client.roundTrip('here')).data.toString(), 'here');
    client.close();
  });

  it('passes the Origin header to the application as it was sent, and the subprotocols offered', async () => {
    const origin = 'https://Example.COM:8443';
    const client = await WsClient.open(wsUrl(server.url, '/scope?q=1'), ['one', 'two'], { origin });
    const scope = JSON.parse(await client.nextText()) as { headers: Array<[string, string]>; subprotocols: string[]; path: string; query_string: string };
    assert.deepEqual(scope.headers.filter(([n]) => n === 'origin'), [['origin', origin]]);
    assert.deepEqual(scope.subprotocols, ['one', 'two']);
    assert.equal(client.protocol, 'one');
    assert.equal(scope.path, '/scope');
    assert.equal(scope.query_string, 'q=1');
    client.close();
  });

  it('sends a denial response of the application\'s own (websocket.http.response), with its status, headers and body', async () => {
    const refusal = await refusalOf(wsUrl(server.url, '/deny-custom'));
    assert.equal(refusal.status, 401);
    assert.equal(refusal.headers['x-denied-by'], 'raw_ws');
    assert.equal(refusal.body, 'no token, no socket');
  });

  it('answers 403 to a close before accept', async () => {
    assert.equal((await refusalOf(wsUrl(server.url, '/deny'))).status, 403);
  });
});
