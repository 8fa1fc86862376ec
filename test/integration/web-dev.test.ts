/**
 * `portico dev APP`: reload on change, the debug page, and an access log on
 * stdout, coloured under FORCE_COLOR and plain under NO_COLOR. The default
 * bind (127.0.0.1:8000, even with PORT set) is checked without binding it,
 * in test/config/load-options.test.ts; here -b 127.0.0.1:0 overrides it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPortico, type Portico } from '../helpers/portico.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { ESCAPED_SCRIPT_ALERT, WEB_APPS } from '../helpers/web-fixtures.js';

/** An access line for `path` with status `status`, coloured or not. */
const accessLine = (path: string, status: number): RegExp => new RegExp(`"GET ${path.replace(/[?.]/g, '\\$&')} HTTP/1\\.1" ${status} `);
const ANSI = /\x1b\[\d+m/;

describe('web: portico dev, with FORCE_COLOR=1', { timeout: 60_000 }, () => {
  const temp = makeTempDir('portico-dev-');
  const file = join(temp.path, 'dev_app.py');
  copyFileSync(join(WEB_APPS, 'dev_app.py'), file);
  const template = readFileSync(file, 'utf8');
  let server: Portico;
  before(async () => {
    server = await startPortico({
      app: 'dev_app:application',
      args: ['dev', '-b', '127.0.0.1:0', '--chdir', temp.path],
      env: { FORCE_COLOR: '1', NO_COLOR: undefined },
    });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it('listens where -b says, on loopback', () => {
    assert.equal(server.host, '127.0.0.1');
  });

  it('writes a coloured access log line to stdout', async () => {
    assert.equal((await httpRequest(`${server.url}/`)).status, 200);
    const line = await eventually('the access line', () => server.stdout().split('\n').find((l) => accessLine('/', 200).test(l)), 5_000);
    assert.match(line, /^\x1b\[32m/, `a 2xx line starts green: ${JSON.stringify(line)}`);
    assert.match(line, /\x1b\[0m$/, 'and resets at its end');
    assert.doesNotMatch(server.stderr(), accessLine('/', 200), 'the access log is not on stderr');
  });

  it('shows the debug page for an exception, the local escaped, and colours the 500 red', async () => {
    const result = await httpRequest(`${server.url}/raise`);
    assert.equal(result.status, 500);
    assert.match(String(result.headers['content-type']), /^text\/html/);
    assert.match(result.text, /RuntimeError/);
    assert.match(result.text, ESCAPED_SCRIPT_ALERT);
    assert.doesNotMatch(result.text, /<script/i);
    const line = await eventually('the access line', () => server.stdout().split('\n').find((l) => accessLine('/raise', 500).test(l)), 5_000);
    assert.match(line, /^\x1b\[31m/, `a 5xx line starts red: ${JSON.stringify(line)}`);
    await eventually('the traceback in the log', () => (/Traceback[\s\S]*RuntimeError: dev_app raised/.test(server.stderr()) ? true : undefined), 5_000);
  });

  it('reloads the workers when the application file changes', async () => {
    const before = await httpRequest(`${server.url}/`);
    assert.match(before.text, /^v1 /);
    writeFileSync(file, template.replace("VERSION = 'v1'", "VERSION = 'v2'"));
    const after = await eventually('the new code answers', async () => {
      const result = await httpRequest(`${server.url}/`);
      return result.text.startsWith('v2 ') ? result : undefined;
    }, 15_000, 100);
    assert.equal(after.status, 200);
    assert.notEqual(after.text.split(' ')[1], before.text.split(' ')[1], 'a new worker answers');
  });
});

describe('web: portico dev, with NO_COLOR=1', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startPortico({
      app: 'dev_app:application',
      args: ['dev', '-b', '127.0.0.1:0', '--chdir', WEB_APPS],
      env: { NO_COLOR: '1', FORCE_COLOR: undefined },
    });
  });
  after(async () => {
    await server?.stop();
  });

  it('writes the access log to stdout without colour', async () => {
    assert.equal((await httpRequest(`${server.url}/`)).status, 200);
    assert.equal((await httpRequest(`${server.url}/raise`)).status, 500);
    await eventually('both access lines', () => (accessLine('/raise', 500).test(server.stdout()) && accessLine('/', 200).test(server.stdout()) ? true : undefined), 5_000);
    assert.doesNotMatch(server.stdout(), ANSI, `no ANSI codes: ${JSON.stringify(server.stdout())}`);
  });

  it('NO_COLOR wins over FORCE_COLOR', async () => {
    const both = await startPortico({
      app: 'dev_app:application',
      args: ['dev', '-b', '127.0.0.1:0', '--chdir', WEB_APPS],
      env: { NO_COLOR: '1', FORCE_COLOR: '1' },
    });
    try {
      assert.equal((await httpRequest(`${both.url}/`)).status, 200);
      await eventually('the access line', () => (accessLine('/', 200).test(both.stdout()) ? true : undefined), 5_000);
      assert.doesNotMatch(both.stdout(), ANSI);
    } finally {
      await both.stop();
    }
  });
});
