/**
 * The access log of HTTP/2 streams (#16): each stream a line, with the
 * fields an HTTP/1.1 request gets (the client's address, the request line
 * with its protocol, the status, the body size, a request field and a
 * response field as sent); a refusal at the door goes to the error log,
 * as on HTTP/1.1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { closeSession, h2Request, openSession } from '../helpers/http2-client.js';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { SYSTEM_PYTHON } from '../helpers/paths.js';
import type { ClientHttp2Session } from 'node:http2';

const FORMAT = '%(h)s "%(r)s" %(s)s %(b)s "%({content-type}o)s" "%({user-agent}i)s"';

describe('HTTP/2 access log', { timeout: 60_000 }, () => {
  let server: Portico;
  let session: ClientHttp2Session;

  before(async () => {
    const { app, args } = fixtureApp('hello_app');
    server = await startPortico({
      app,
      args: [...args, '--python', SYSTEM_PYTHON, '-w', '1', '--http2-cleartext', 'prior-knowledge', '--limit-request-line', '100', '--access-logfile', '-', '--access-logformat', FORMAT],
    });
    session = await openSession(server.url);
  });

  after(async () => {
    await closeSession(session);
    await server.stop();
  });

  it("logs a GET and a HEAD with the fields HTTP/1.1 gets, the client's address included, and a refusal in the error log", async () => {
    const get = await h2Request(session, '/a?x=1', { headers: { 'user-agent': 'h2-test/1.0' } });
    assert.equal(get.status, 200);
    assert.equal((await h2Request(session, '/b', { method: 'HEAD' })).status, 200);
    // --limit-request-line holds for :path as for an HTTP/1.1 request line: refused at the door, before any application.
    const long = `/c${'c'.repeat(200)}`;
    const refused = await h2Request(session, long);
    assert.equal(refused.status, 414);
    await server.waitForLog(/refused GET \/c+: 414 PORTICO_ERR_REQUEST_LINE_TOO_LONG/, 5_000);
    const lines = server.stdout().split('\n').filter((line) => line.includes('HTTP/2.0'));
    assert.deepEqual(lines, [
      `127.0.0.1 "GET /a?x=1 HTTP/2.0" 200 ${get.body.length} "text/plain" "h2-test/1.0"`,
      // The size is the body the application gave, as the HTTP/1.1 access log counts it for HEAD.
      `127.0.0.1 "HEAD /b HTTP/2.0" 200 ${get.body.length} "text/plain" "-"`,
    ]);
  });
});
