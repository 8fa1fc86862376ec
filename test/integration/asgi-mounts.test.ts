/**
 * ASGI applications under mounts and --root-path, beside WSGI ones. Each
 * application mount has its own pool; an ASGI scope's root_path is
 * --root-path and the mount's prefix, and its path includes root_path (ASGI
 * HTTP spec, as uvicorn >= 0.26 and Starlette >= 0.33 read it). Debian's
 * Starlette 0.26 routes on path alone, so under a prefix it needs the
 * strip_root_path adapter (test/fixtures/asgi/strip_root_path.py, printed in the
 * README's ASGI section); without it every route 404s.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ASGI_FIXTURES, startAsgi } from '../helpers/asgi-fixtures.js';
import { startPortico, startTogether, type Portico } from '../helpers/portico.js';
import { getJson, httpRequest } from '../helpers/http-client.js';
import { workerPids } from '../helpers/worker-tree.js';
import { SYSTEM_PYTHON } from '../helpers/paths.js';

interface Scope {
  path: string;
  raw_path: string;
  root_path: string;
  query_string: string;
}

describe('a WSGI site at / and an ASGI application at /api', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startPortico({
      app: null,
      args: ['--chdir', join(ASGI_FIXTURES, 'mixed'), '--python', SYSTEM_PYTHON, '-w', '1', '--mount', '/api=api:app', '--mount', '/=site.wsgi'],
    });
  });
  after(async () => {
    await server?.stop();
  });

  it('routes each prefix to its own application and pool', async () => {
    const api = await getJson<{ interface: string; pid: number; path: string; root_path: string }>(`${server.url}/api/items/1?x=1`);
    const site = await getJson<{ interface: string; pid: number; script_name: string; path_info: string }>(`${server.url}/about/us`);
    assert.deepEqual({ ...api, pid: 0 }, { interface: 'asgi', pid: 0, path: '/api/items/1', root_path: '/api' });
    assert.deepEqual({ ...site, pid: 0 }, { interface: 'wsgi', pid: 0, script_name: '', path_info: '/about/us' });
    assert.notEqual(api.pid, site.pid);
    assert.deepEqual(workerPids(server.pid), [api.pid, site.pid].sort((a, b) => a - b), 'one worker per mount, as -w 1 says');
    const apiRoot = await getJson<{ path: string; root_path: string }>(`${server.url}/api`);
    assert.deepEqual([apiRoot.path, apiRoot.root_path], ['/api', '/api']);
    assert.equal((await getJson<{ interface: string }>(`${server.url}/apiary`)).interface, 'wsgi', 'prefixes match whole segments');
  });
});

describe('a TOML [[mount]] with interface = "asgi"', { timeout: 60_000 }, () => {
  it('serves an application that auto would take for WSGI, on a pool of its own size', async () => {
    const server = await startPortico({ app: null, args: ['-c', join(ASGI_FIXTURES, 'mixed', 'portico.toml')] });
    try {
      assert.equal(server.workers, 3, 'one WSGI worker and two ASGI ones');
      const api = await httpRequest(`${server.url}/api/anything`);
      assert.equal(api.status, 200);
      assert.equal(api.text, 'served as ASGI');
      assert.equal((await getJson<{ interface: string }>(`${server.url}/page`)).interface, 'wsgi');
    } finally {
      await server.stop();
    }
  });
});

describe('root_path and path under mounts and --root-path', { timeout: 60_000 }, () => {
  let plain: Portico;
  let proxied: Portico;
  before(async () => {
    const mounts = ['--mount', '/api=old_starlette_mount:adapted', '--mount', '/bare=old_starlette_mount:unadapted', '--mount', '/raw=raw_app:app'];
    [plain, proxied] = await startTogether([
      startAsgi('raw_app:app', mounts),
      startAsgi('old_starlette_mount:adapted', ['--root-path', '/proxy', '--mount', '/raw=raw_app:app']),
    ]);
  });
  after(async () => {
    await Promise.all([plain?.stop(), proxied?.stop()]);
  });

  it('a raw application at /: empty root_path, path as requested', async () => {
    const scope = await getJson<Scope>(`${plain.url}/scope/a%20b?q=1`);
    assert.deepEqual([scope.root_path, scope.path, scope.raw_path, scope.query_string], ['', '/scope/a b', '/scope/a%20b', 'q=1']);
  });

  it('a raw application under a mount: root_path is the prefix, path includes it, raw_path is as received', async () => {
    const scope = await getJson<Scope>(`${plain.url}/raw/scope/caf%C3%A9`);
    assert.deepEqual([scope.root_path, scope.path, scope.raw_path], ['/raw', '/raw/scope/caf\u00e9', '/raw/scope/caf%C3%A9']);
  });

  it('--root-path goes before the mount prefix in root_path and path, not in raw_path', async () => {
    const atRoot = await getJson<Scope>(`${proxied.url}/raw/scope/x`);
    assert.deepEqual([atRoot.root_path, atRoot.path, atRoot.raw_path], ['/proxy/raw', '/proxy/raw/scope/x', '/raw/scope/x']);
  });

  it("Starlette 0.26 under a mount routes, and builds URLs, through the strip_root_path adapter", async () => {
    const item = await getJson<Record<string, string>>(`${plain.url}/api/items/3`);
    const port = new URL(plain.url).port;
    assert.deepEqual(item, {
      id: '3',
      url_for: `http://127.0.0.1:${port}/api/items/7`,
      url_path: '/api/items/3',
      scope_path: '/items/3',
      root_path: '/api',
    });
  });

  it('Starlette 0.26 under a mount without the adapter answers 404 for every route', async () => {
    const result = await httpRequest(`${plain.url}/bare/items/3`);
    assert.equal(result.status, 404);
    assert.equal((await httpRequest(`${plain.url}/bare/pid`)).status, 404);
  });

  it('Starlette 0.26 behind --root-path builds its URLs with the prefix the proxy stripped', async () => {
    const item = await getJson<Record<string, string>>(`${proxied.url}/items/5`);
    assert.equal(item.id, '5');
    assert.equal(item.root_path, '/proxy');
    assert.equal(new URL(item.url_for as string).pathname, '/proxy/items/7');
    assert.equal(item.url_path, '/proxy/items/5');
  });
});

describe('--root-path with a trailing slash', { timeout: 30_000 }, () => {
  it('is taken without it', async () => {
    const server = await startAsgi('raw_app:app', ['--root-path', '/p/']);
    try {
      const scope = await getJson<Scope>(`${server.url}/scope`);
      assert.equal(scope.root_path, '/p');
      assert.equal(scope.path, '/p/scope');
    } finally {
      await server.stop();
    }
  });
});
