/**
 * The control listener (--control-bind, #17) of a real portico: its five
 * paths, on TCP and on a UNIX socket; the public listener never answering
 * them itself; worker exits counted by reason; a scrape flood beside public
 * traffic; up through a drain, /healthz 200 and /readyz 503; and the
 * start-up failures (a bad value, a public address, one that cannot bind).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server as NetServer } from 'node:net';
import { join } from 'node:path';
import { eventually, httpRequest, sleep, type HttpResult } from '../helpers/http-client.js';
import { fixtureApp, spawnPortico, startPortico, type Portico } from '../helpers/portico.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { workerPids } from '../helpers/worker-tree.js';
import { freePort } from '../helpers/free-port.js';

const CONTROL_LINE = /control listener on (http:\/\/[^\s,:]+:\d+)/;

interface StatusJson {
  ready: boolean;
  notReady: string[];
  mounts: Array<{
    mount: string;
    workers: Array<{ pid: number; state: string; generation: number; served: number }>;
    lastExit: { pid: number; reason: string } | null;
    exits: Record<string, number>;
    requests: { total: number };
  }>;
}

async function status(url: string): Promise<StatusJson> {
  const result = await httpRequest(`${url}/status.json`);
  assert.equal(result.status, 200, result.text);
  return JSON.parse(result.text) as StatusJson;
}

/** The value of one sample of a scrape, by its name and labels as printed. */
function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

async function exitsBy(url: string, reason: string): Promise<number> {
  const text = (await httpRequest(`${url}/metrics`)).text;
  return sample(text, `portico_worker_exits_total{mount="/",reason="${reason}"}`) ?? -1;
}

describe('control listener', { timeout: 90_000 }, () => {
  let server: Portico;
  let control: string;
  const dir = makeTempDir('portico-control-');
  const socket = join(dir.path, 'control.sock');

  before(async () => {
    const { app, args } = fixtureApp('sleepy_app');
    server = await startPortico({ app, args: [...args, '-w', '2', '--control-bind', '127.0.0.1:0', '--control-bind', `unix:${socket}`] });
    control = (CONTROL_LINE.exec(server.logs()) as RegExpExecArray)[1] as string;
  });
  after(async () => {
    await server?.stop();
    dir.remove();
  });

  it('answers /healthz and /readyz, for GET and HEAD, and nothing but its own paths', async () => {
    const health = await httpRequest(`${control}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(health.text, 'ok\n');
    assert.equal(health.headers['cache-control'], 'no-store');
    const ready = await httpRequest(`${control}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(ready.text, 'ready\n');
    const head = await httpRequest(`${control}/readyz`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal((await httpRequest(`${control}/readyz?probe=1`)).status, 200, 'a query is no other path');
    const post = await httpRequest(`${control}/metrics`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.allow, 'GET, HEAD');
    assert.equal((await httpRequest(`${control}/`)).status, 404);
    assert.equal((await httpRequest(`${control}/pid`)).status, 404, 'no application behind it');
  });

  it('serves the same over a UNIX socket', async () => {
    assert.match(server.logs(), new RegExp(`control listener on .*unix:${socket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const health = await httpRequest('/healthz', { socketPath: socket });
    assert.equal(health.status, 200);
    const metrics = await httpRequest('/metrics', { socketPath: socket });
    assert.match(metrics.text, /^portico_workers\{mount="\/",state="ready"\} 2$/m);
  });

  it('leaves those paths to the application on the public listener', async () => {
    for (const path of ['/metrics', '/status', '/status.json', '/healthz', '/readyz']) {
      const answer = await httpRequest(`${server.url}${path}`);
      assert.equal(answer.status, 404, path);
      assert.equal(answer.text, 'no such path', `${path} reached the application`);
    }
  });

  it('counts the public requests in /metrics, by mount and status, and not its own', async () => {
    const before = (await httpRequest(`${control}/metrics`)).text;
    const ok = sample(before, 'portico_http_requests_total{mount="/",status="200"}') ?? 0;
    for (let i = 0; i < 5; i++) assert.equal((await httpRequest(`${server.url}/pid`)).status, 200);
    const scrape = await httpRequest(`${control}/metrics`);
    assert.equal(scrape.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.equal(sample(scrape.text, 'portico_http_requests_total{mount="/",status="200"}'), ok + 5);
    for (const name of [
      'portico_http_requests_total', 'portico_http_request_duration_seconds', 'portico_workers', 'portico_worker_exits_total',
      'portico_queue_depth', 'portico_inflight_requests', 'portico_websocket_connections', 'portico_cgi_scripts_total',
      'portico_static_bytes_total', 'portico_worker_resident_memory_bytes', 'process_cpu_user_seconds_total', 'nodejs_heap_size_used_bytes',
    ]) {
      assert.match(scrape.text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    }
    for (const pid of workerPids(server.pid)) {
      assert.ok((sample(scrape.text, `portico_worker_resident_memory_bytes{mount="/",pid="${pid}"}`) ?? 0) > 1024 * 1024, `RSS of ${pid}`);
    }
  });

  it('lists in /status.json the workers /proc shows', async () => {
    const json = await status(control);
    assert.equal(json.ready, true);
    const mount = json.mounts[0];
    assert.equal(mount?.mount, '/');
    assert.deepEqual(mount.workers.map((w) => w.pid).sort((a, b) => a - b), workerPids(server.pid));
    assert.ok(mount.workers.every((w) => w.state === 'ready' && w.generation === 1));
  });

  it('counts worker exits by reason: memory (a SIGKILL not its own), scale_down, reload', async () => {
    const [victim] = workerPids(server.pid);
    process.kill(victim as number, 'SIGKILL');
    await eventually('the SIGKILL counted as memory', async () => ((await exitsBy(control, 'memory')) === 1 ? true : undefined));
    const last = (await status(control)).mounts[0]?.lastExit;
    assert.deepEqual([last?.pid, last?.reason], [victim, 'memory']);
    await eventually('two workers again', async () => ((await status(control)).mounts[0]?.workers.filter((w) => w.state === 'ready').length === 2 ? true : undefined));

    process.kill(server.pid, 'SIGTTOU');
    await eventually('scale_down counted', async () => ((await exitsBy(control, 'scale_down')) === 1 ? true : undefined));
    process.kill(server.pid, 'SIGTTIN');
    await eventually('two workers again', async () => ((await status(control)).mounts[0]?.workers.filter((w) => w.state === 'ready').length === 2 ? true : undefined));

    process.kill(server.pid, 'SIGHUP');
    await eventually('reload counted for both old workers', async () => ((await exitsBy(control, 'reload')) === 2 ? true : undefined), 15_000);
    const json = await status(control);
    assert.ok(json.mounts[0]?.workers.every((w) => w.generation === 2), JSON.stringify(json.mounts[0]?.workers));
    assert.equal(await exitsBy(control, 'crash'), 0);
  });

  it('answers a flood of 100 concurrent scrapes while public requests flow, and every one of both', async () => {
    const scrapes: Array<Promise<HttpResult>> = [];
    for (let i = 0; i < 100; i++) scrapes.push(httpRequest(`${control}/${i % 2 === 0 ? 'metrics' : 'status.json'}`, { timeoutMs: 20_000 }));
    const publicRequests: Array<Promise<HttpResult>> = [];
    for (let i = 0; i < 200; i++) publicRequests.push(httpRequest(`${server.url}/pid`, { timeoutMs: 20_000 }));
    const [scraped, served] = await Promise.all([Promise.all(scrapes), Promise.all(publicRequests)]);
    assert.deepEqual(scraped.filter((r) => r.status !== 200).map((r) => r.status), []);
    assert.ok(scraped.every((r, i) => (i % 2 === 0 ? /portico_workers/.test(r.text) : r.text.startsWith('{'))));
    assert.deepEqual(served.filter((r) => r.status !== 200).map((r) => r.status), []);
  });

  it('stays up through the drain: /healthz 200, /readyz 503, until the server has stopped', async () => {
    const slow = httpRequest(`${server.url}/sleep?s=3`, { timeoutMs: 15_000 });
    await sleep(300);
    process.kill(server.pid, 'SIGTERM');
    const notReady = await eventually('/readyz 503', async () => {
      const answer = await httpRequest(`${control}/readyz`);
      return answer.status === 503 ? answer : undefined;
    });
    assert.match(notReady.text, /^not ready: .*stopping/);
    assert.equal((await httpRequest(`${control}/healthz`)).status, 200);
    assert.equal((await status(control)).ready, false);
    assert.equal((await slow).status, 200, 'the request in flight is finished');
    assert.equal((await server.waitForExit(15_000)).code, 0);
    await assert.rejects(httpRequest(`${control}/healthz`, { timeoutMs: 2_000 }), 'closed once the server has stopped');
  });
});

describe('control listener beside --proxy-protocol', { timeout: 30_000 }, () => {
  let server: Portico;
  before(async () => {
    const { app, args } = fixtureApp('hello_app');
    server = await startPortico({ app, args: [...args, '--proxy-protocol', '--control-bind', '127.0.0.1:0'] });
  });
  after(async () => {
    await server?.stop();
  });

  it('answers a health check that sends no PROXY header, which the public listener refuses', async () => {
    const control = (CONTROL_LINE.exec(server.logs()) as RegExpExecArray)[1] as string;
    assert.equal((await httpRequest(`${control}/healthz`)).status, 200);
    assert.equal((await httpRequest(`${control}/readyz`)).status, 200);
    await assert.rejects(httpRequest(`${server.url}/`, { timeoutMs: 5_000 }));
  });
});

describe('--control-bind at start-up', { timeout: 30_000 }, () => {
  const { app, args } = fixtureApp('hello_app');

  async function failure(extra: string[]): Promise<{ code: number | null; stderr: string }> {
    const server = spawnPortico({ app, args: [...args, ...extra] });
    const exit = await server.waitForExit(15_000);
    await server.stop();
    return { code: exit.code, stderr: server.stderr() };
  }

  it('answers /healthz at once, and /readyz 503 until every worker is ready', async () => {
    const slow = fixtureApp('slow_import_app');
    const server = spawnPortico({ app: slow.app, args: [...slow.args, '--control-bind', '127.0.0.1:0'], env: { IMPORT_DELAY: '2' } });
    try {
      const control = (await server.waitForLog(CONTROL_LINE))[1] as string;
      assert.equal((await httpRequest(`${control}/healthz`)).status, 200);
      const booting = await httpRequest(`${control}/readyz`);
      assert.equal(booting.status, 503);
      assert.match(booting.text, /^not ready: the server is starting or stopping; mount \/ has no ready worker$/m);
      await server.waitForLog(/listening on /, 15_000);
      assert.equal((await httpRequest(`${control}/readyz`)).status, 200);
    } finally {
      await server.stop();
    }
  });

  it('exits 2 with one line naming the option for a bad address', async () => {
    const { code, stderr } = await failure(['--control-bind', 'localhost:http']);
    assert.equal(code, 2);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, /^portico: error: --control-bind: expected HOST:PORT/);
  });

  it('exits 2 for an address that is also a --bind', async () => {
    const port = await freePort();
    const { code, stderr } = await failure(['-b', `127.0.0.1:${port}`, '--control-bind', `127.0.0.1:${port}`]);
    assert.equal(code, 2);
    assert.match(stderr, /^portico: error: --control-bind: 127\.0\.0\.1:\d+ is also a --bind address/);
  });

  it('stops start-up with a clear message when it cannot bind', async () => {
    const taken: NetServer = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const { code, stderr } = await failure(['--control-bind', `127.0.0.1:${port}`]);
      assert.equal(code, 1);
      assert.match(stderr, new RegExp(`cannot listen on --control-bind 127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*; choose another address with --control-bind`));
      assert.doesNotMatch(stderr, /listening on/);
    } finally {
      taken.close();
    }
  });
});
