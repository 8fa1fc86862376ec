/**
 * What the distribution tests (#19) share: an installed `portico` started
 * as a user would start it, one request to it, and a stop; a Flask
 * application in a directory of its own.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LISTENING_LINE } from '../helpers/portico.js';

/** The README's own app: app.py with `app`, served as `portico app:app`. It names the runtime that imported it. */
const FLASK_APP = `import sys
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello from flask, runtime " + sys.modules["portico"].__file__ + "\\n"
`;

/** A fresh directory holding only app.py. */
export function writeFlaskApp(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, 'app.py'), FLASK_APP, { mode: 0o644 });
  return dir;
}

export interface Served {
  status: number;
  body: string;
  /** Everything the server wrote, stdout and stderr, up to its exit. */
  log: string;
  exitCode: number | null;
}

/**
 * Starts `command args`, waits for its "listening on" line, GETs / there,
 * then stops it with SIGTERM and waits for it to exit. It runs in a process
 * group of its own, which is killed whatever happens.
 */
export async function serveOnce(command: string, args: readonly string[], options: SpawnOptions): Promise<Served> {
  const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.on('error', (error) => (log += `spawn failed: ${error.message}\n`));
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening on" line within 30 s:\n${log}`)), 30_000);
    const onData = (chunk: Buffer): void => {
      log += chunk.toString('utf8');
      const found = LISTENING_LINE.exec(log);
      if (found) {
        clearTimeout(timer);
        resolve(`http://${found[1]}:${found[2]}/`);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening:\n${log}`));
    });
  });
  try {
    const url = await listening;
    const { status, body } = await get(url);
    process.kill(-(child.pid as number), 'SIGTERM');
    const exitCode = await exited;
    return { status, body, log, exitCode };
  } finally {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // Gone already, as it should be.
    }
  }
}

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent: false, timeout: 15_000 }, (response) => {
        let body = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on('error', reject)
      .on('timeout', function (this: http.ClientRequest) {
        this.destroy(new Error(`GET ${url}: no answer within 15 s`));
      });
  });
}

/**
 * A PATH on which python3 is Debian's (which has Flask): `first`, then
 * /usr/bin and /bin, then this Node's directory, for `#!/usr/bin/env node`
 * wherever Node is installed.
 */
export function systemPath(...first: string[]): string {
  return [...first, '/usr/bin', '/bin', dirname(process.execPath)].join(':');
}
