// A server under test runs in a process group of its own, so that it can be
// stopped, with everything it forked, by signalling the group we created.
// Nothing is ever killed by name.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { openSync, closeSync, readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Raised when a server exits or never answers. */
export class ServerStartError extends Error {
  constructor(message, log) {
    super(message);
    this.name = 'ServerStartError';
    this.code = 'BENCH_SERVER_START';
    this.log = log;
  }
}

/**
 * argv run with its soft open-file limit raised to `files`, or to the hard
 * limit where that is lower (Node cannot call setrlimit); `exec` keeps the
 * pid, so the process is still the leader of the group spawnGroup makes.
 */
export function withFileLimit(argv, files) {
  if (!files) return argv;
  return ['/bin/sh', '-c', `ulimit -n ${files} 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"`, 'sh', ...argv];
}

/** A process's soft limit on open files, from /proc/PID/limits (Infinity for unlimited). */
export function openFileLimit(pid) {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
    return !line || line[1] === 'unlimited' ? Infinity : Number(line[1]);
  } catch {
    return null;
  }
}

/** A port on loopback that was free a moment ago. */
export async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * Starts argv[0] with argv.slice(1) as the leader of a new process group;
 * stdout and stderr go to logPath.
 */
export function spawnGroup(argv, { cwd, env, logPath, uid, gid }) {
  const fd = openSync(logPath, 'a');
  const child = spawn(argv[0], argv.slice(1), {
    cwd,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', fd, fd],
    uid,
    gid,
  });
  closeSync(fd);
  const group = new ProcessGroup(child, argv, logPath);
  return group;
}

/** Groups not yet stopped, so that an interrupted run can stop them. */
export const liveGroups = new Set();

export class ProcessGroup {
  #child;
  #exited = false;

  constructor(child, argv, logPath) {
    this.#child = child;
    this.argv = argv;
    this.logPath = logPath;
    this.pgid = child.pid;
    this.exitCode = null;
    liveGroups.add(this);
    child.on('exit', (code, signal) => {
      this.#exited = true;
      this.exitCode = code ?? signal;
    });
    child.on('error', () => {
      this.#exited = true;
    });
  }

  get exited() {
    return this.#exited;
  }

  log() {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** The leader and every process descended from it, read from /proc. */
  pids() {
    return descendants(this.pgid);
  }

  /** SIGTERM to the group, then SIGKILL to whatever is left after graceMs. */
  async stop(graceMs = 5000) {
    liveGroups.delete(this);
    signalGroup(this.pgid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      if (!groupAlive(this.pgid)) return;
      await sleep(100);
    }
    signalGroup(this.pgid, 'SIGKILL');
    while (groupAlive(this.pgid)) await sleep(50);
  }
}

function signalGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if (error.code !== 'ESRCH') throw error;
  }
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  // Zombies still count for kill(0); a group of zombies is finished.
  for (const pid of listPids()) {
    const stat = readStat(pid);
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') return true;
  }
  return false;
}

function listPids() {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

/** Fields of /proc/PID/stat; comm may hold spaces and parentheses. */
export function readStat(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const rest = text.slice(close + 2).split(' ');
  // Fields 14-17: utime, stime, and the same for children it has reaped, in clock ticks.
  const cpuTicks = Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]);
  return { pid, comm, state: rest[0], ppid: Number(rest[1]), pgrp: Number(rest[2]), cpuTicks };
}

/** pid and all its descendants (living, not zombies). */
export function descendants(pid) {
  const children = new Map();
  for (const p of listPids()) {
    const stat = readStat(p);
    if (!stat || stat.state === 'Z') continue;
    if (!children.has(stat.ppid)) children.set(stat.ppid, []);
    children.get(stat.ppid).push(p);
  }
  const found = [];
  const queue = [pid];
  while (queue.length) {
    const next = queue.shift();
    if (next !== pid || readStat(pid)) found.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return found.filter((p) => readStat(p));
}

/** One HTTP request; resolves with status and body length. */
export function probe(port, path, { method = 'GET', timeoutMs = 2000, tls = false } = {}) {
  return new Promise((resolve, reject) => {
    // Over TLS (the HTTPS and HTTP/2 cells) the bench's own certificate, unverified (bench/tls.mjs).
    const req = (tls ? httpsRequest : request)(
      { host: '127.0.0.1', port, path, method, agent: false, timeout: timeoutMs, ...(tls ? { rejectUnauthorized: false } : {}) },
      (res) => {
        let length = 0;
        const chunks = [];
        res.on('data', (chunk) => {
          length += chunk.length;
          if (length <= 4096) chunks.push(chunk);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode, length, head: Buffer.concat(chunks).toString('latin1', 0, 200) }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('probe timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** Polls path until it answers 200, or fails when the group exits or time runs out. */
export async function waitReady(group, port, path, timeoutMs = 60000, tls = false) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    if (group.exited) {
      throw new ServerStartError(`${group.argv[0]} exited (${group.exitCode}) before answering`, group.log());
    }
    try {
      const answer = await probe(port, path, { tls });
      if (answer.status === 200) return answer;
      last = `status ${answer.status}: ${answer.head}`;
    } catch (error) {
      last = error.message;
    }
    await sleep(150);
  }
  throw new ServerStartError(`no 200 from ${path} within ${timeoutMs} ms (last: ${last})`, group.log());
}
