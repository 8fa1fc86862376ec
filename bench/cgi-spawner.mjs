#!/usr/bin/env node
/**
 * How fast can the front start CGI scripts? Spawning is the whole cost of
 * CGI, so this compares the two launchers src/cgi has, the real code (run
 * `npm run build` first):
 *
 *   spawn    Node's child_process.spawn, detached (own process group),
 *            stdin/stdout/stderr as pipes (src/cgi/cgi-process.ts): the
 *            fallback.
 *
 *   spawner  The long-lived Python helper in the style of Apache's mod_cgid
 *            (src/cgi/cgi-spawner.ts, python/portico/cgi_spawner.py): it
 *            posix_spawn()s the script, from a small process and off Node's
 *            event loop, onto three UNIX-socket connections from the front.
 *            The default.
 *
 * Each "request" runs the script to completion: empty stdin, stdout and
 * stderr read to EOF. Usage:
 *
 *     node bench/cgi-spawner.mjs [--seconds 3] [--runs 5] [--concurrency 1,4,16]
 *
 * Prints requests/s per run and the median of the runs for each design.
 */
import { chmodSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launchDirectly } from '../dist/src/cgi/cgi-process.js';
import { CgiSpawner } from '../dist/src/cgi/cgi-spawner.js';
import { ErrorLog } from '../dist/src/observability/error-log.js';

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
const dir = realpathSync(mkdtempSync(join(tmpdir(), 'portico-cgi-bench-')));
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

const log = new ErrorLog(process.stderr, 'warning');
const located = { filename: script, directory: dir };

/** One request: empty stdin, stdout and stderr read to EOF, the script exited. */
function runOnce(launch) {
  return async () => {
    const child = launch(located, env);
    let out = 0;
    child.stdout.on('data', (chunk) => (out += chunk.length));
    child.stderr.resume();
    child.stdin.end();
    await new Promise((resolve, reject) => {
      child.onSpawnError(reject);
      child.onClose(resolve);
    });
    if (out === 0) throw new Error('no output from the script');
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

const spawner = await CgiSpawner.start(values.python, dir, log);
const designs = { spawn: runOnce(launchDirectly), spawner: runOnce((located, env) => spawner.launch(located, env)) };
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
