/**
 * Issue #20: once `createServer().close()` has resolved, nothing of the
 * server may keep Node's event loop alive (a grace timer left armed kept it
 * up for another 30 s). Each case runs the README's JavaScript in a child
 * Node process, stdin closed as in `node api.mjs </dev/null`, which must
 * exit on its own within a second of close() resolving.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FIXTURE_APPS, REPO_ROOT } from '../helpers/paths.js';
import { baseEnv } from '../helpers/portico.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** How long the child may live on after close() resolves. */
const EXIT_WITHIN_MS = 1_000;

/**
 * The child's program around `body`: it prints `closed` the moment close()
 * resolves and nothing keeps it alive but what the server left behind. A
 * watchdog, unref'd so that it keeps nothing alive itself, makes a child that
 * hangs say so and exit instead of outliving the test.
 */
function program(body: string): string {
  return `
import http from 'node:http';
import net from 'node:net';
const { createServer } = await import(process.env.PORTICO_MODULE);
const apps = process.env.FIXTURE_APPS;
setTimeout(() => {
  console.log(\`still alive, held by: \${process.getActiveResourcesInfo().join(', ')}\`);
  process.exit(3);
}, 20_000).unref();
${body}
console.log('closed');
`;
}

/**
 * A keep-alive request whose connection is then left open and idle: close()
 * must end it too.
 */
const IDLE_CONNECTION = `
async function idleConnection(url) {
  const { port } = new URL(url);
  const socket = net.connect(Number(port), '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write('GET / HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n');
  await new Promise((resolve) => socket.once('data', resolve));
  socket.on('end', () => socket.destroy());
  return socket;
}
`;

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  /** Milliseconds from the child printing `closed` to its exit; null if it never printed it. */
  exitAfterCloseMs: number | null;
}

describe('createServer().close() lets the process exit', { timeout: 90_000 }, () => {
  const temp = makeTempDir();
  const children = new Set<number>();
  after(() => {
    // Whatever a failed case left: the child's whole process group (its workers included).
    for (const pid of children) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    temp.remove();
  });

  async function run(name: string, body: string): Promise<ChildRun> {
    const script = join(temp.path, `${name}.mjs`);
    writeFileSync(script, program(IDLE_CONNECTION + body));
    const child = spawn(process.execPath, [script], {
      cwd: temp.path,
      env: baseEnv({ PORTICO_MODULE: pathToFileURL(join(REPO_ROOT, 'dist', 'src', 'index.js')).href, FIXTURE_APPS }),
      // stdin closed, as with </dev/null.
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    children.add(child.pid as number);
    let output = '';
    let closedAt: number | null = null;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      if (closedAt === null && /^closed$/m.test(output)) closedAt = performance.now();
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    const exitedAt = performance.now();
    children.delete(child.pid as number);
    return { code, signal, output, exitAfterCloseMs: closedAt === null ? null : exitedAt - closedAt };
  }

  function assertExitedPromptly(result: ChildRun): void {
    assert.notEqual(result.exitAfterCloseMs, null, `close() never resolved:\n${result.output}`);
    assert.ok(
      (result.exitAfterCloseMs as number) < EXIT_WITHIN_MS,
      `the process lived ${Math.round(result.exitAfterCloseMs as number)} ms after close() resolved:\n${result.output}`,
    );
    assert.equal(result.code, 0, result.output);
  }

  it("exits after the README's listen, reload and close, with a keep-alive connection left idle", async () => {
    const result = await run(
      'readme',
      `
const server = createServer({ app: 'hello_app:application', chdir: apps, workers: 2, bind: ['127.0.0.1:0'] });
server.on('workerExit', (pid, why) => console.log(\`worker \${pid} \${why}\`));
await server.listen();
const idle = await idleConnection(server.address()[0]);
await server.reload();
await server.close();
`,
    );
    assertExitedPromptly(result);
    assert.equal(result.output.match(/^worker \d+ /gm)?.length, 4, `both generations of workers exited:\n${result.output}`);
  });

  it('exits when the grace runs out on a request that is still running', async () => {
    const result = await run(
      'cut',
      `
const server = createServer({ app: 'sleepy_app:application', chdir: apps, workers: 1, bind: ['127.0.0.1:0'] });
await server.listen();
const { port } = new URL(server.address()[0]);
const socket = net.connect(Number(port), '127.0.0.1', () => socket.write('GET /sleep?s=60&mark=cut HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\n\\r\\n'));
socket.on('error', () => {});
socket.on('close', () => console.log('the long request was cut'));
// The request is running once the app says so on stderr (the error log).
await new Promise((resolve) => {
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk, ...rest) => {
    if (String(chunk).includes('sleeping pid=')) resolve();
    return original(chunk, ...rest);
  };
});
await server.close(300);
`,
    );
    assertExitedPromptly(result);
    assert.match(result.output, /the long request was cut/);
  });

  it('exits with an HTTP/2 connection open (h2c): GOAWAY, the stream in flight answered, then the connection closed', async () => {
    const result = await run(
      'http2',
      `
const http2 = await import('node:http2');
const server = createServer({ app: 'sleepy_app:application', chdir: apps, workers: 1, bind: ['127.0.0.1:0'], http2Cleartext: 'prior-knowledge' });
await server.listen();
const session = http2.connect(server.address()[0]);
session.on('error', () => {});
session.on('goaway', () => console.log('goaway'));
const get = (path) => new Promise((resolve) => {
  const stream = session.request({ ':path': path });
  stream.on('response', (head) => resolve(head[':status']));
  stream.on('error', () => resolve('reset'));
  stream.resume();
});
console.log('first', await get('/pid'));
const inFlight = get('/sleep?s=0.5');
await new Promise((resolve) => setTimeout(resolve, 100));
const closing = server.close();
console.log('in flight', await inFlight);
await closing;
`,
    );
    assertExitedPromptly(result);
    assert.match(result.output, /^first 200$/m);
    assert.match(result.output, /^goaway$/m);
    assert.match(result.output, /^in flight 200$/m);
  });

  it('exits with CGI and static mounts beside the workers (the CGI spawner is stopped too)', async () => {
    const result = await run(
      'site',
      `
const server = createServer({
  app: 'hello_app:application',
  chdir: apps,
  bind: ['127.0.0.1:0'],
  mounts: [
    { kind: 'cgi', path: '/cgi-bin/', root: ${JSON.stringify(join(REPO_ROOT, 'test', 'fixtures', 'cgi-bin'))} },
    { kind: 'static', path: '/static/', root: apps },
  ],
});
await server.listen();
const status = await new Promise((resolve, reject) => {
  http.get(server.address()[0] + '/cgi-bin/hello.sh', { agent: false }, (response) => response.resume().on('end', () => resolve(response.statusCode))).on('error', reject);
});
console.log('cgi', status);
const idle = await idleConnection(server.address()[0]);
await server.close();
`,
    );
    assertExitedPromptly(result);
    assert.match(result.output, /^cgi 200$/m);
  });
});
