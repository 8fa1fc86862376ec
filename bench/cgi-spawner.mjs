#!/usr/bin/env node
/**
 * How fast can the front start CGI scripts? Spawning is the whole cost of
 * CGI, so this compares the two designs the CGI handler could use:
 *
 *   spawn    Node's child_process.spawn, detached (own process group),
 *            stdin/stdout/stderr as pipes: what src/cgi does today.
 *
 *   spawner  A small long-lived Python helper in the style of Apache's
 *            mod_cgid. Per request the front opens two UNIX-socket
 *            connections: one becomes the script's stdin+stdout, the other
 *            its stderr. The helper (a small process, so its fork() is cheap,
 *            and off Node's event loop) forks, setsid()s, dup2()s the two
 *            connections onto fds 0/1/2, writes the child's pid as the first
 *            line of stdout and execve()s the script. Node cannot receive
 *            fds over SCM_RIGHTS without a native addon, so the connections
 *            themselves are the stdio: that is how mod_cgid does it too.
 *
 * Each "request" runs the script to completion: empty stdin, stdout and
 * stderr read to EOF. Usage:
 *
 *     node bench/cgi-spawner.mjs [--seconds 3] [--runs 5] [--concurrency 1,4,16]
 *
 * Prints requests/s per run and the median of the runs for each design.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    runs: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '1,4,16' },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const SECONDS = Number(values.seconds);
const RUNS = Number(values.runs);
const CONCURRENCY = values.concurrency.split(',').map(Number);

const SAFE_PATH = '/usr/local/bin:/usr/bin:/bin';
const dir = mkdtempSync(join(tmpdir(), 'portico-cgi-bench-'));
const script = join(dir, 'hello.sh');
writeFileSync(script, '#!/bin/sh\nprintf "Content-Type: text/plain\\r\\n\\r\\nhello %s\\n" "$QUERY_STRING"\n');
chmodSync(script, 0o755);
const env = {
  PATH: SAFE_PATH,
  GATEWAY_INTERFACE: 'CGI/1.1',
  REQUEST_METHOD: 'GET',
  QUERY_STRING: 'x=1',
  SCRIPT_NAME: '/cgi-bin/hello.sh',
  SCRIPT_FILENAME: script,
  SERVER_PROTOCOL: 'HTTP/1.1',
  SERVER_SOFTWARE: 'portico',
};

const SPAWNER_SOURCE = String.raw`
import json, os, selectors, signal, socket, sys

# The kernel reaps the scripts: nobody here waits for them.
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
path = sys.argv[1]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(512)
sel = selectors.DefaultSelector()
sel.register(server, selectors.EVENT_READ, None)
pending_requests = {}   # token -> (conn, request)
pending_stderr = {}     # token -> conn
buffers = {}

def launch(conn, request, err):
    pid = os.fork()
    if pid == 0:
        try:
            os.setsid()
            os.dup2(conn.fileno(), 0)
            os.dup2(conn.fileno(), 1)
            os.dup2(err.fileno(), 2)
            os.closerange(3, 65536)
            os.write(1, b'%d\n' % os.getpid())
            os.chdir(request['cwd'])
            os.execve(request['path'], [request['path']], request['env'])
        finally:
            os._exit(127)
    conn.close()
    err.close()

sys.stdout.write('ready\n'); sys.stdout.flush()
while True:
    for key, _ in sel.select():
        if key.fileobj is server:
            conn, _ = server.accept()
            buffers[conn] = b''
            sel.register(conn, selectors.EVENT_READ, 'line')
            continue
        conn = key.fileobj
        data = conn.recv(1 << 16)
        if not data:
            sel.unregister(conn); buffers.pop(conn, None); conn.close(); continue
        buffers[conn] += data
        if b'\n' not in buffers[conn]:
            continue
        line = buffers.pop(conn).split(b'\n', 1)[0]
        sel.unregister(conn)
        if line.startswith(b'E '):
            token = line[2:].decode()
            if token in pending_requests:
                c, request = pending_requests.pop(token)
                launch(c, request, conn)
            else:
                pending_stderr[token] = conn
        else:
            request = json.loads(line)
            token = request['token']
            if token in pending_stderr:
                launch(conn, request, pending_stderr.pop(token))
            else:
                pending_requests[token] = (conn, request)
`;

function drain(stream) {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    stream.on('data', (chunk) => (bytes += chunk.length));
    stream.on('end', () => resolve(bytes));
    stream.on('error', reject);
  });
}

/** One request with child_process.spawn. */
async function viaSpawn() {
  const child = spawn(script, [], { cwd: dir, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end();
  const [out] = await Promise.all([drain(child.stdout), drain(child.stderr), once(child, 'close')]);
  if (out === 0) throw new Error('no output from spawn');
}

let tokens = 0;
/** One request through the long-lived spawner. */
function viaSpawner(socketPath) {
  return async () => {
    const token = String(++tokens);
    const stdio = connect(socketPath);
    const stderr = connect(socketPath);
    stdio.write(JSON.stringify({ token, path: script, cwd: dir, env }) + '\n');
    stderr.write(`E ${token}\n`);
    stdio.end(); // empty request body: EOF on the script's stdin.
    stderr.end();
    let head = '';
    let pid = 0;
    let out = 0;
    const done = new Promise((resolve, reject) => {
      stdio.on('data', (chunk) => {
        if (pid === 0) {
          head += chunk.toString('latin1');
          const nl = head.indexOf('\n');
          if (nl === -1) return;
          pid = Number(head.slice(0, nl));
          out += head.length - nl - 1;
        } else out += chunk.length;
      });
      stdio.on('end', resolve);
      stdio.on('error', reject);
    });
    await Promise.all([done, drain(stderr)]);
    if (pid === 0 || out === 0) throw new Error('no output from spawner');
  };
}

async function measure(runOne, concurrency) {
  const deadline = performance.now() + SECONDS * 1000;
  let completed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await runOne();
        completed += 1;
      }
    }),
  );
  return completed / ((performance.now() - started) / 1000);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function startSpawner() {
  const socketPath = join(dir, 'spawner.sock');
  const helper = spawn(values.python, ['-c', SPAWNER_SOURCE, socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    helper.stdout.once('data', resolve);
    helper.once('exit', (code) => reject(new Error(`spawner exited with ${code}`)));
  });
  return { socketPath, stop: () => helper.kill('SIGKILL') };
}

const spawner = await startSpawner();
const designs = { spawn: viaSpawn, spawner: viaSpawner(spawner.socketPath) };
try {
  // Warm both paths (page cache, JIT) before measuring.
  for (const run of Object.values(designs)) await measure(run, 4);
  console.log(`node ${process.version}, ${SECONDS}s per run, ${RUNS} runs, script ${script}`);
  for (const concurrency of CONCURRENCY) {
    const results = {};
    for (let i = 0; i < RUNS; i++) {
      // Interleave the designs so drift in machine load hits both alike.
      for (const [name, run] of Object.entries(designs)) (results[name] ??= []).push(await measure(run, concurrency));
    }
    for (const [name, rates] of Object.entries(results)) {
      const runs = rates.map((r) => r.toFixed(0)).join(' ');
      console.log(`concurrency ${String(concurrency).padStart(2)}  ${name.padEnd(8)} median ${median(rates).toFixed(0).padStart(5)} req/s   runs: ${runs}`);
    }
  }
} finally {
  spawner.stop();
  rmSync(dir, { recursive: true, force: true });
}
