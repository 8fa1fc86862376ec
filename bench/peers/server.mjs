// What every peer's start() returns: the process groups it created, the
// commands that started them, and a way to stop them all.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { ServerStartError, spawnGroup, waitReady, withFileLimit } from '../process-group.mjs';

/** A cell's server cannot run here (say, a feature portico does not have yet). */
export class NotAvailableError extends Error {
  constructor(message) {
    super(message);
    this.name = 'NotAvailableError';
    this.code = 'BENCH_NOT_AVAILABLE';
  }
}

export class RunningServer {
  constructor({ peer, port, groups, commands, configFiles = [] }) {
    this.peer = peer;
    this.port = port;
    this.groups = groups;
    this.commands = commands;
    this.configFiles = configFiles;
  }

  /** Every process of the server: each group's leader and its descendants. */
  pids() {
    return this.groups.flatMap((group) => group.pids());
  }

  /** The process that accepts connections (the first group's leader). */
  get leaderPid() {
    return this.groups[0].pgid;
  }

  async stop() {
    await Promise.all(this.groups.map((group) => group.stop()));
  }
}

/** Debian's Python, which every Python server runs on. */
export const PYTHON = '/usr/bin/python3';

const importable = new Map();

/**
 * Why a peer cannot run, or null: the first of `needs` ({ module, package })
 * that Debian's Python cannot import, named by the package that brings it.
 */
export function missingModules(needs) {
  for (const { module, package: name } of needs) {
    if (!importable.has(module)) {
      const result = existsSync(PYTHON) ? spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' }) : { status: 1 };
      importable.set(module, result.status === 0);
    }
    if (!importable.get(module)) return `${name} not installed`;
  }
  return null;
}

/** Waits for a UNIX socket (or any file) a backend creates. */
export async function waitForFile(path, group, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (group?.exited) throw new ServerStartError(`${group.argv[0]} exited (${group.exitCode}) before creating ${path}`, group.log());
    if (Date.now() > deadline) throw new ServerStartError(`${path} never appeared`, group?.log() ?? '');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A scratch directory for one server instance, reachable by www-data. */
export function instanceDir(ctx, name, under = ctx.work.run) {
  const dir = join(under, `${name}-${ctx.port}`);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  return dir;
}

/**
 * Starts one process group and waits until readyPath answers 200; with
 * ctx.files (the 10,000 idle WebSockets), under a raised open-file limit.
 */
export async function startGroup(ctx, name, argv, options = {}) {
  const logPath = join(ctx.work.logs, `${name}-${ctx.port}.log`);
  const group = spawnGroup(withFileLimit(argv, ctx.files), { logPath, cwd: options.cwd ?? ctx.work.root, env: options.env, uid: options.uid, gid: options.gid });
  if (options.readyPath === null) return group;
  try {
    await waitReady(group, ctx.port, options.readyPath ?? ctx.workload.path, undefined, ctx.workload.tls === true);
  } catch (error) {
    await group.stop();
    throw error;
  }
  return group;
}

/** argv as a copy-pasteable shell line (after `ulimit -n` where the cell raises it). */
export function shellLine(argv, env = {}, files = undefined) {
  const quote = (word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${String(word).replace(/'/g, `'\\''`)}'`);
  const prefix = Object.entries(env).map(([key, value]) => `${key}=${quote(value)} `).join('');
  return (files ? `ulimit -n ${files}; ` : '') + prefix + argv.map(quote).join(' ');
}
