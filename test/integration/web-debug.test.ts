/**
 * --debug through the real server: an application's exception becomes an
 * HTML page with everything escaped, and the log keeps the traceback;
 * without --debug the client gets a plain 500 that tells nothing. A CGI
 * script that fails shows its stderr, escaped, in debug mode only.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startPortico, type Portico } from '../helpers/portico.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { ESCAPED_SCRIPT_ALERT, WEB_APPS, WEB_CGI_BIN } from '../helpers/web-fixtures.js';

const ARGS = ['--pythonpath', WEB_APPS, '--cgi', `/cgi-bin/=${WEB_CGI_BIN}`];
const APP = 'raising_app:application';

for (const debug of [true, false]) {
  describe(`web: an application that raises, ${debug ? 'with' : 'without'} --debug`, { timeout: 60_000 }, () => {
    let server: Portico;
    before(async () => {
      server = await startPortico({ app: APP, args: debug ? ['--debug', ...ARGS] : ARGS });
    });
    after(async () => {
      await server?.stop();
    });

    it('logs the traceback', async () => {
      assert.equal((await httpRequest(`${server.url}/raise`)).status, 500);
      await eventually('the traceback in the log', () => (/Traceback[\s\S]*ValueError: raising_app failed with/.test(server.stderr()) ? true : undefined), 5_000);
    });

    if (debug) {
      it('answers 500 with an HTML page showing the exception and the local, escaped', async () => {
        const result = await httpRequest(`${server.url}/raise?q=<b>`);
        assert.equal(result.status, 500);
        assert.match(String(result.headers['content-type']), /^text\/html/);
        assert.match(result.text, /ValueError/);
        assert.match(result.text, /raising_app failed with/);
        assert.match(result.text, /markup_local/, 'the local is shown by name');
        assert.match(result.text, ESCAPED_SCRIPT_ALERT, 'and by value, escaped');
        assert.doesNotMatch(result.text, /<script/i, 'nothing on the page can run');
      });
    } else {
      it('answers a plain 500 that shows neither the traceback nor any local', async () => {
        const result = await httpRequest(`${server.url}/raise`);
        assert.equal(result.status, 500);
        for (const secret of [/Traceback/, /ValueError/, /raising_app/, /markup_local/, /alert/, /script/i]) {
          assert.doesNotMatch(result.text, secret, `the body gives nothing away: ${JSON.stringify(result.text)}`);
        }
      });
    }

    it('still serves after the error', async () => {
      const ok = await httpRequest(`${server.url}/ok`);
      assert.equal(ok.status, 200);
      assert.equal(ok.text, 'ok');
    });

    it(`answers a failing CGI script with ${debug ? 'its stderr, escaped' : 'a plain error page'}`, async () => {
      const result = await httpRequest(`${server.url}/cgi-bin/fails.sh`);
      // No header block at all: 502, as a gateway whose upstream failed (Apache says 500; either is an error page).
      assert.ok(result.status === 502 || result.status === 500, `status ${result.status}`);
      if (debug) {
        assert.match(result.text, /fails\.sh: /, `the page shows stderr: ${result.text}`);
        assert.match(result.text, ESCAPED_SCRIPT_ALERT, 'escaped');
        assert.doesNotMatch(result.text, /<script/i);
      } else {
        assert.doesNotMatch(result.text, /fails\.sh|alert|script/i, `the body gives nothing away: ${JSON.stringify(result.text)}`);
      }
      await eventually('the script stderr in the log', () => (server.stderr().includes('fails.sh: <script>alert("cgi-debug")') ? true : undefined), 5_000);
    });
  });
}
