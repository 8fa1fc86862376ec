/**
 * A Django project generated at test time by `django startproject` (Debian's
 * python3-django), with a view and a CSRF-protected form, served through
 * portico.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DJANGO_FIXTURE_DIR, SYSTEM_PYTHON } from '../helpers/paths.js';
import { startPortico, type Portico } from '../helpers/portico.js';
import { httpRequest } from '../helpers/http-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('Django', { timeout: 90_000 }, () => {
  const temp = makeTempDir('portico-django-');
  let server: Portico;

  before(async () => {
    const generated = spawnSync(SYSTEM_PYTHON, ['-m', 'django', 'startproject', 'proj', temp.path], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(generated.status, 0, `startproject failed: ${generated.stderr}`);
    const pkg = join(temp.path, 'proj');
    copyFileSync(join(DJANGO_FIXTURE_DIR, 'views.py'), join(pkg, 'views.py'));
    copyFileSync(join(DJANGO_FIXTURE_DIR, 'urls.py'), join(pkg, 'urls.py'));
    appendFileSync(join(pkg, 'settings.py'), readFileSync(join(DJANGO_FIXTURE_DIR, 'settings_tail.py'), 'utf8'));
    // The file path, so that the rest of this suite does not hang on the dotted-name test above.
    server = await startPortico({ app: join(temp.path, 'proj', 'wsgi.py'), args: ['--chdir', temp.path, '--python', SYSTEM_PYTHON] });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it("loads the project by its dotted module name alone: 'proj.wsgi' (as gunicorn is run)", async () => {
    const byModule = await startPortico({ app: 'proj.wsgi', args: ['--chdir', temp.path, '--python', SYSTEM_PYTHON] });
    try {
      assert.equal((await httpRequest(`${byModule.url}/hello/`)).status, 200);
    } finally {
      await byModule.stop();
    }
  });

  it('serves a view', async () => {
    const result = await httpRequest(`${server.url}/hello/?name=portico`);
    assert.equal(result.status, 200, result.text);
    assert.deepEqual(JSON.parse(result.text), { hello: 'portico', path: '/hello/', script_name: '' });
  });

  it('rejects a Host outside ALLOWED_HOSTS', async () => {
    const result = await httpRequest(`${server.url}/hello/`, { headers: { Host: 'evil.example' } });
    assert.equal(result.status, 400);
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
