/**
 * Which interface a worker runs: --interface auto tells ASGI from WSGI by
 * the callable (FastAPI's app is an object with an async __call__);
 * --interface asgi, or one of gunicorn's ASGI worker classes (-k), says so
 * for an application auto cannot tell; --interface wsgi for an application
 * that is clearly ASGI is a boot error rather than a 500 on every request.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ASGI_ARGS, startAsgi } from '../helpers/asgi-fixtures.js';
import { httpRequest } from '../helpers/http-client.js';
import { runPortico } from '../helpers/portico.js';

describe('interface selection', { timeout: 60_000 }, () => {
  it('`portico main:app` detects a FastAPI application as ASGI', async () => {
    const server = await startAsgi('main:app', ['--log-level', 'debug']);
    try {
      const result = await httpRequest(`${server.url}/`);
      assert.equal(result.status, 200, result.text);
      assert.deepEqual(JSON.parse(result.text), { framework: 'fastapi' });
      assert.match(server.logs(), /booted ASGI worker with pid \d+/);
    } finally {
      await server.stop();
    }
  });

  for (const flags of [['--interface', 'asgi'], ['-k', 'uvicorn.workers.UvicornWorker'], ['--worker-class', 'uvicorn_worker.UvicornWorker']]) {
    it(`\`${flags.join(' ')}\` serves a function that returns a coroutine as ASGI`, async () => {
      const server = await startAsgi('awaitable_app:app', flags);
      try {
        const result = await httpRequest(`${server.url}/`);
        assert.equal(result.status, 200, result.text);
        assert.equal(result.text, 'served as ASGI');
      } finally {
        await server.stop();
      }
    });
  }

  it('auto takes that same function for WSGI, which is why the flags exist', async () => {
    const server = await startAsgi('awaitable_app:app', ['--log-level', 'debug']);
    try {
      assert.match(server.logs(), /booted WSGI worker with pid \d+/);
      assert.equal((await httpRequest(`${server.url}/`)).status, 500);
    } finally {
      await server.stop();
    }
  });

  it('--interface wsgi with an ASGI application is a boot error, exit status 4', async () => {
    const result = await runPortico(['-b', '127.0.0.1:0', '-w', '1', ...ASGI_ARGS, '--interface', 'wsgi', 'raw_app:app']);
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /--interface wsgi, but the application .* is an ASGI application/);
  });

  it('-k with a worker class portico does not run is refused, naming the ones it does', async () => {
    const result = await runPortico(['-k', 'gevent', 'raw_app:app']);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /-k: portico runs .*uvicorn\.workers\.UvicornWorker/);
  });
});
