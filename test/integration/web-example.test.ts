/**
 * The example site, run with `npm start`'s own command (read from
 * package.json) plus -b 127.0.0.1:0, which overrides the file's bind: the
 * app at /, the CGI scripts at /cgi-bin/, static files at /static/.
 *
 * That `npm start` itself serves on http://127.0.0.1:8000, as the README
 * says, is checked twice: the options its command resolves to, and the
 * command run as it is in a network namespace of its own, whose loopback
 * is no one else's, so that a server already on this machine's port 8000
 * (a developer's own `npm start`, another test) is neither met nor hindered.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { WebSocket } from 'ws';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOptions } from '../../src/config/load-options.js';
import { PORTICO_BIN, REPO_ROOT } from '../helpers/paths.js';
import { baseEnv, LISTENING_LINE, startPortico, type Portico } from '../helpers/portico.js';
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

  it('binds where -b says, not the file\'s 127.0.0.1:8000, with the workers of the file: two for the WSGI app, one for the ASGI app', () => {
    assert.equal(server.host, '127.0.0.1');
    assert.notEqual(server.port, 8000);
    assert.equal(server.workers, 3);
  });

  it('serves the ASGI application at /api/, with the state its lifespan startup set', async () => {
    const result = await httpRequest(`${server.url}/api/?x=1`);
    assert.equal(result.status, 200);
    const scope = JSON.parse(result.text) as Record<string, string | null>;
    assert.deepEqual({ ...scope, worker_started: null }, { method: 'GET', path: '/api/', root_path: '/api', query: 'x=1', worker_started: null });
    assert.match(String(scope.worker_started), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it('echoes WebSocket messages at /api/echo, text and binary, and refuses another path with 403', async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/echo`);
    const replies: Array<[boolean, string]> = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('open', () => {
        ws.send('hello');
        ws.send(Buffer.from([0, 1, 2]));
      });
      ws.on('message', (data, isBinary) => {
        replies.push([isBinary, (data as Buffer).toString('hex')]);
        if (replies.length === 2) ws.close(1000);
      });
      ws.on('close', () => resolve());
      ws.on('error', reject);
    });
    assert.deepEqual(replies, [[false, Buffer.from('hello').toString('hex')], [true, '000102']]);
    const status = await new Promise<number>((resolve, reject) => {
      const refused = new WebSocket(`${server.url.replace('http', 'ws')}/api/elsewhere`);
      refused.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        refused.terminate();
      });
      refused.on('open', () => reject(new Error('a WebSocket to /api/elsewhere was accepted')));
      refused.on('error', () => {});
    });
    assert.equal(status, 403);
  });

  it('streams server-sent events from /api/clock, once a second', async () => {
    const events: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const request = httpGet(`${server.url}/api/clock`, (response) => {
        assert.equal(response.headers['content-type'], 'text/event-stream');
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          events.push(...chunk.split('\n\n').filter((event) => event.startsWith('data: ')));
          if (events.length >= 2) {
            request.destroy();
            resolve();
          }
        });
      });
      request.on('error', reject);
    });
    assert.match(events[0] ?? '', /^data: \d\d:\d\d:\d\d$/);
    assert.notEqual(events[0], events[1], 'a second event, a second later');
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

describe('web: npm start serves on http://127.0.0.1:8000', { timeout: 60_000 }, () => {
  it('its command resolves to the one bind 127.0.0.1:8000, with PORT set or not', () => {
    const args = npmStartArgs();
    assert.ok(!args.some((a) => /^(-b|--bind)(=|$)/.test(a)), `the bind comes from the example's file: ${args.join(' ')}`);
    for (const env of [baseEnv(), baseEnv({ PORT: '5000' })]) {
      const { options } = loadOptions(args, env, REPO_ROOT);
      assert.deepEqual(options.bind, ['127.0.0.1:8000'], `PORT=${env.PORT ?? '(unset)'}`);
    }
  });

  it('its command, run in a network namespace of its own, answers on 127.0.0.1:8000', async (t) => {
    // As root (CI is), unshare gives the server a loopback of its own; `ip` brings it up.
    const probe = spawnSync('unshare', ['--net', '--', 'ip', 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      const why = `cannot make a network namespace here: ${(probe.stderr || String(probe.error)).trim()}`;
      assert.ok(!process.env.CI, why);
      t.skip(why);
      return;
    }
    const child = spawn('unshare', ['--net', '--', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, PORTICO_BIN, ...npmStartArgs()], {
      cwd: REPO_ROOT,
      env: baseEnv(),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (output += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (output += c));
    const exited = once(child, 'exit');
    try {
      const listening = await eventually('the listening line', () => {
        if (child.exitCode !== null) throw new Error(`npm start's command exited (${child.exitCode}): ${output}`);
        return LISTENING_LINE.exec(output) ?? undefined;
      }, 20_000);
      assert.equal(`${listening[1]}:${listening[2]}`, '127.0.0.1:8000', output);
      // A client in the same namespace: unshare execs, so the server's pid is the child's.
      const client = spawnSync('nsenter', [`--net=/proc/${child.pid}/ns/net`, '--', process.execPath, '-e',
        "fetch('http://127.0.0.1:8000/?name=npm').then(async (r) => console.log(r.status, await r.text()))"], { encoding: 'utf8', timeout: 15_000 });
      assert.equal(client.status, 0, client.stderr);
      assert.match(client.stdout, /^200 .*<h1>Hello, npm!<\/h1>/);
    } finally {
      // Like the helper's stop(): SIGTERM to portico, SIGKILL to its group if it lingers or leaves workers.
      const killGroup = (): void => {
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          // Already gone.
        }
      };
      const timer = setTimeout(killGroup, 8_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
      killGroup();
    }
  });
});
