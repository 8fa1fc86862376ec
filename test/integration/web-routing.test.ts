/**
 * Mounts given on the command line, matched by the real server: a plain
 * APP is the mount at '/', the longest prefix wins on whole segments,
 * SCRIPT_NAME is the prefix and PATH_INFO the rest, and %2F never moves the
 * split. WSGI, CGI and static mounts serve side by side, and a CGI local
 * redirect (RFC 3875 §6.2.2) is replayed to a WSGI or a static mount.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_APPS } from '../helpers/paths.js';
import { startPortico, type Portico } from '../helpers/portico.js';
import { getJson, httpRequest } from '../helpers/http-client.js';
import { RawConnection, rawRequest } from '../helpers/raw-connection.js';
import { WEB_TREE } from '../helpers/web-fixtures.js';

interface Echo {
  environ: Record<string, string>;
  pid: number;
}

const PUBLIC_HELLO = 'hello from public/\n';

describe('web: mounts from the command line', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startPortico({
      app: 'echo_environ:application',
      cwd: WEB_TREE, // the command line names its paths relative to it
      args: [
        '--pythonpath', FIXTURE_APPS,
        '--mount', '/app=project/wsgi.py',
        '--mount', '/app/admin=echo_environ:application',
        '--mount', '/in=input_app:application',
        // Bounds a request stuck waiting for a body (see the last test).
        '--timeout', '3',
        '--cgi', '/cgi-bin/=./cgi-bin',
        '--static', '/static/=./public',
      ],
    });
  });
  after(async () => {
    await server?.stop();
  });

  /** [SCRIPT_NAME, PATH_INFO, pid] as the app behind `target` saw them; the target goes out as written. */
  async function split(target: string): Promise<[string, string, number]> {
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(rawRequest('GET', target, [['Connection', 'close']]));
      const [response] = await conn.readResponses(1);
      assert.equal(response?.status, 200, `GET ${target}: ${conn.text.slice(0, 500)}`);
      const echo = JSON.parse(response.body.toString('latin1')) as Echo;
      return [echo.environ.SCRIPT_NAME as string, echo.environ.PATH_INFO as string, echo.pid];
    } finally {
      conn.destroy();
    }
  }

  it('starts one pool per WSGI mount: APP at /, --mount PATH=FILE and --mount PATH=module:callable', async () => {
    assert.equal(server.workers, 4, 'one worker for each of the four WSGI mounts');
    const pids = new Set([(await split('/'))[2], (await split('/app'))[2], (await split('/app/admin'))[2]]);
    assert.equal(pids.size, 3, 'each mount answers from its own worker');
  });

  it('serves a plain APP as the mount at /', async () => {
    assert.deepEqual((await split('/')).slice(0, 2), ['', '/']);
    assert.deepEqual((await split('/anything/else')).slice(0, 2), ['', '/anything/else']);
  });

  it('gives a WSGI mount its prefix as SCRIPT_NAME and the rest as PATH_INFO', async () => {
    assert.deepEqual((await split('/app')).slice(0, 2), ['/app', '']);
    assert.deepEqual((await split('/app/')).slice(0, 2), ['/app', '/']);
    assert.deepEqual((await split('/app/x/y')).slice(0, 2), ['/app', '/x/y']);
    const echo = await getJson<Echo>(`${server.url}/app/x?q=1&r=%2F`);
    assert.equal(echo.environ.QUERY_STRING, 'q=1&r=%2F', 'the query stays raw and out of PATH_INFO');
  });

  it('matches the longest prefix on whole segments only', async () => {
    const [, , adminPid] = await split('/app/admin');
    const [, , appPid] = await split('/app');
    const [, , rootPid] = await split('/');
    assert.deepEqual(await split('/app/admin/users'), ['/app/admin', '/users', adminPid]);
    assert.deepEqual(await split('/app/administrator'), ['/app', '/administrator', appPid]);
    assert.deepEqual(await split('/apple'), ['', '/apple', rootPid], '/apple is not under /app');
    assert.deepEqual(await split('/app.x'), ['', '/app.x', rootPid]);
  });

  it('never lets %2F move the split', async () => {
    const [, , rootPid] = await split('/');
    const [, , appPid] = await split('/app');
    assert.deepEqual(await split('/app%2Fx'), ['', '/app/x', rootPid], '/app%2Fx is one segment, not under /app');
    assert.deepEqual(await split('/app%2fadmin/users'), ['', '/app/admin/users', rootPid]);
    assert.deepEqual(await split('/app/admin%2Fusers'), ['/app', '/admin/users', appPid], 'not under /app/admin');
  });

  it('runs a CGI script from --cgi, split at the script', async () => {
    const result = await httpRequest(`${server.url}/cgi-bin/where.sh/extra/path?x=1`);
    assert.equal(result.status, 200, result.text);
    assert.match(result.text, /^SCRIPT_NAME=\/cgi-bin\/where\.sh$/m);
    assert.match(result.text, /^PATH_INFO=\/extra\/path$/m);
    assert.match(result.text, /^QUERY_STRING=x=1$/m);
  });

  it('serves a file from --static, and leaves /staticky to the root mount', async () => {
    const hello = await httpRequest(`${server.url}/static/hello.txt`);
    assert.equal(hello.status, 200);
    assert.equal(hello.text, PUBLIC_HELLO);
    assert.match(String(hello.headers['content-type']), /^text\/plain/);
    const index = await httpRequest(`${server.url}/static/`);
    assert.equal(index.status, 200);
    assert.match(index.text, /the public index/);
    assert.deepEqual((await split('/staticky')).slice(0, 2), ['', '/staticky']);
  });

  it("replays a CGI script's local Location to the WSGI mount, as a GET", async () => {
    const echo = await getJson<Echo>(`${server.url}/cgi-bin/to-app.sh`);
    assert.equal(echo.environ.SCRIPT_NAME, '/app');
    assert.equal(echo.environ.PATH_INFO, '/from-cgi');
    assert.equal(echo.environ.QUERY_STRING, 'via=cgi');
    assert.equal(echo.environ.REQUEST_METHOD, 'GET');
  });

  it("replays a CGI script's local Location to the static mount", async () => {
    const result = await httpRequest(`${server.url}/cgi-bin/to-static.sh`);
    assert.equal(result.status, 200, result.text);
    assert.equal(result.text, PUBLIC_HELLO);
    assert.match(String(result.headers['content-type']), /^text\/plain/);
  });

  it('replays a local Location answering a POST as a GET without the POST body (RFC 3875 §6.2.2)', async () => {
    const body = 'field=value&other=1';
    const result = await httpRequest(`${server.url}/cgi-bin/to-app.sh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(body.length) },
      body,
      timeoutMs: 5_000,
    });
    assert.equal(result.status, 200, result.text.slice(0, 500));
    const { environ } = JSON.parse(result.text) as Echo;
    assert.equal(environ.REQUEST_METHOD, 'GET');
    assert.equal(environ.PATH_INFO, '/from-cgi');
    assert.ok(environ.CONTENT_LENGTH === undefined || environ.CONTENT_LENGTH === '' || environ.CONTENT_LENGTH === '0',
      `the GET has no body, so no CONTENT_LENGTH; got ${JSON.stringify(environ.CONTENT_LENGTH)}`);
  });

  it('replays a local Location answering a POST to an app that reads wsgi.input: it sees an empty body at once', async () => {
    const body = 'field=value&other=1';
    const started = Date.now();
    const result = await httpRequest(`${server.url}/cgi-bin/to-input.sh`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': String(body.length) },
      body,
      timeoutMs: 8_000,
    });
    assert.equal(result.status, 200, `after ${Date.now() - started} ms: ${result.text.slice(0, 300)}`);
    const report = JSON.parse(result.text) as { data: string; content_length: string | null };
    assert.equal(report.data, '', 'the GET carries none of the POST body');
    assert.ok(Date.now() - started < 2_000, `answered in ${Date.now() - started} ms, not after --timeout`);
  });
});
