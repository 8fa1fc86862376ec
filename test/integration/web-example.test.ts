/**
 * The example site, run with `npm start`'s own command (read from
 * package.json) plus -b 127.0.0.1:0, which overrides the file's bind: the
 * app at /, the CGI scripts at /cgi-bin/, static files at /static/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/paths.js';
import { startPortico, type Portico } from '../helpers/portico.js';
import { eventually, httpRequest } from '../helpers/http-client.js';

/** `node bin/portico.js -c examples/site/portico.toml` -> the arguments after bin/portico.js. */
function npmStartArgs(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const words = (scripts.start ?? '').split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ['node', 'bin/portico.js'], `npm start runs portico: ${scripts.start}`);
  return words.slice(2);
}

describe('web: the example site (npm start)', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startPortico({ app: null, cwd: REPO_ROOT, args: [...npmStartArgs(), '-b', '127.0.0.1:0'] });
  });
  after(async () => {
    await server?.stop();
  });

  it('binds where -b says, not the file\'s 127.0.0.1:8000, with the two workers of the file', () => {
    assert.equal(server.host, '127.0.0.1');
    assert.notEqual(server.port, 8000);
    assert.equal(server.workers, 2);
  });

  it('serves the application at /', async () => {
    const page = await httpRequest(`${server.url}/?name=<portico>`);
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.text, /Hello, &lt;portico&gt;!/);
    const echo = await httpRequest(`${server.url}/echo`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'message=hi+there',
    });
    assert.equal(echo.status, 200);
    assert.deepEqual(JSON.parse(echo.text), { message: 'hi there' });
  });

  it('runs the shell CGI script at /cgi-bin/hello.sh', async () => {
    const result = await httpRequest(`${server.url}/cgi-bin/hello.sh?from=test`);
    assert.equal(result.status, 200, result.text);
    assert.match(result.text, /^Hello from a shell CGI script\.$/m);
    assert.match(result.text, /^QUERY_STRING=from=test$/m);
  });

  it('runs the Python CGI script at /cgi-bin/env.py', async () => {
    const result = await httpRequest(`${server.url}/cgi-bin/env.py`);
    assert.equal(result.status, 200, result.text);
    assert.match(result.text, /<dt>GATEWAY_INTERFACE<\/dt><dd>CGI\/1\.1<\/dd>/);
    assert.match(result.text, /<dt>SCRIPT_NAME<\/dt><dd>\/cgi-bin\/env\.py<\/dd>/);
  });

  it('serves the static files at /static/', async () => {
    const index = await httpRequest(`${server.url}/static/`);
    assert.equal(index.status, 200);
    assert.equal(index.text, readFileSync(join(REPO_ROOT, 'examples', 'site', 'static', 'index.html'), 'utf8'));
    const css = await httpRequest(`${server.url}/static/style.css`);
    assert.equal(css.status, 200);
    assert.match(String(css.headers['content-type']), /^text\/css/);
  });

  it("writes the file's access log to stdout", async () => {
    await httpRequest(`${server.url}/static/style.css`);
    await eventually('an access line', () => (/"GET \/static\/style\.css HTTP\/1\.1" 200 /.test(server.stdout()) ? true : undefined), 5_000);
  });
});
