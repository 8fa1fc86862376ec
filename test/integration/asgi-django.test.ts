/**
 * Debian's Django 3.2 through its asgi.py (ASGIHandler) on portico's ASGI
 * workers: a project generated at test time by `django startproject`, with
 * an async view and a CSRF-protected form. Django's handler refuses the
 * lifespan scope, and --asgi-lifespan auto carries on without it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ASGI_FIXTURES } from '../helpers/asgi-fixtures.js';
import { SYSTEM_PYTHON } from '../helpers/paths.js';
import { startPortico, type Portico } from '../helpers/portico.js';
import { httpRequest } from '../helpers/http-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('Django over ASGI', { timeout: 90_000 }, () => {
  const temp = makeTempDir('portico-asgi-django-');
  let server: Portico;

  before(async () => {
    const generated = spawnSync(SYSTEM_PYTHON, ['-m', 'django', 'startproject', 'proj', temp.path], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(generated.status, 0, `startproject failed: ${generated.stderr}`);
    const pkg = join(temp.path, 'proj');
    const fixtures = join(ASGI_FIXTURES, 'django');
    copyFileSync(join(fixtures, 'views.py'), join(pkg, 'views.py'));
    copyFileSync(join(fixtures, 'urls.py'), join(pkg, 'urls.py'));
    appendFileSync(join(pkg, 'settings.py'), readFileSync(join(fixtures, 'settings_tail.py'), 'utf8'));
    server = await startPortico({ app: 'proj.asgi:application', args: ['--chdir', temp.path, '--python', SYSTEM_PYTHON, '-w', '1', '--log-level', 'debug'] });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it('runs as ASGI, without lifespan (Django refuses the scope), under --asgi-lifespan auto', async () => {
    await server.waitForLog(/booted ASGI worker with pid \d+/, 1_000);
    assert.doesNotMatch(server.logs(), /\[ERROR\]/, 'its refusal of the lifespan scope is no error');
  });

  it('serves an async view', async () => {
    const result = await httpRequest(`${server.url}/async/?name=caf%C3%A9`);
    assert.equal(result.status, 200, result.text);
    const body = JSON.parse(result.text) as { async: boolean; name: string; path: string };
    assert.deepEqual({ ...body, pid: undefined }, { async: true, name: 'caf\u00e9', path: '/async/', pid: undefined });
  });

  it('accepts a POST that carries the CSRF token from the cookie it set', async () => {
    const page = await httpRequest(`${server.url}/form/`);
    assert.equal(page.status, 200, page.text);
    const cookie = (page.headers['set-cookie'] ?? []).map((c) => /^csrftoken=([^;]+)/.exec(c)?.[1]).find((v) => v !== undefined);
    assert.ok(cookie !== undefined, `csrftoken cookie set: ${JSON.stringify(page.headers['set-cookie'])}`);
    const token = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(page.text)?.[1];
    assert.ok(token !== undefined, 'the form carries a token');
    const posted = await httpRequest(`${server.url}/form/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: `csrftoken=${cookie}` },
      body: `csrfmiddlewaretoken=${encodeURIComponent(token)}&name=ada`,
    });
    assert.equal(posted.status, 200, posted.text.slice(0, 500));
    assert.deepEqual(JSON.parse(posted.text), { posted: 'ada' });
  });

  it('refuses a POST without the CSRF token (so the check above is real)', async () => {
    const posted = await httpRequest(`${server.url}/form/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'name=mallory',
    });
    assert.equal(posted.status, 403);
  });
});
