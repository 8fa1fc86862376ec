// How many Python workers one front core can feed (issue #18, "Many cores
// on one machine"), and what --fronts N changes. req/s on a 2-core machine
// shared with wrk and with other work says little; the CPU each request
// costs each kind of process does not depend on who else runs. So every
// cell runs wrk for a fixed time and reads utime+stime from /proc/PID/stat
// of each of the server's processes before and after: the front's (each
// front's, and the --fronts parent's) and the workers' CPU µs per request.
// A front core feeds  front µs/req ÷ worker µs/req  busy workers.
//
// All cells' servers are started once, side by side on their own ports
// (an idle one costs no CPU), then measured in rounds, each round in a
// rotated order, so that a noisy minute falls on every cell alike; the
// figures are medians over the rounds.
//
//   node bench/front-ceiling.mjs [--rounds 5] [--seconds 8] [--connections 32]
//        [--cells w1:hello,w2:hello,w1:big,w2:big,f2w2:hello] [--portico DIR] [--json FILE]
//        [--new-connections]
//
// A cell is [f<fronts>]w<workers>:<app>, app one of bench/apps (hello: 13
// bytes; big: 100 KiB; flask: Flask's JSON hello); -w is per front.
// --portico runs another built tree (a copy, so that edits made meanwhile
// do not change what is measured).
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort, readStat, spawnGroup, waitReady } from './process-group.mjs';
import { median } from './stats.mjs';
import { runWrk } from './wrk.mjs';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '8' },
    connections: { type: 'string', default: '32' },
    cells: { type: 'string', default: 'w1:hello,w2:hello,w1:big,w2:big' },
    portico: { type: 'string', default: fileURLToPath(new URL('..', import.meta.url)) },
    json: { type: 'string' },
    // A new connection for every request (Connection: close), where the fronts' shared accept queue is busiest.
    'new-connections': { type: 'boolean', default: false },
  },
});
const apps = fileURLToPath(new URL('apps', import.meta.url));
const bin = join(resolve(values.portico), 'bin', 'portico.js');
const logs = mkdtempSync(join(tmpdir(), 'front-ceiling-'));
const TICK_US = 10_000; // USER_HZ is 100
/** wrk sends Connection: close on every request with this script. */
let closeScript;
if (values['new-connections']) {
  closeScript = join(logs, 'close.lua');
  writeFileSync(closeScript, 'wrk.headers["Connection"] = "close"\n');
}
/** Cell app names: hello (13 bytes), big (100 KiB), flask (Flask's JSON hello, Debian's python3-flask); else a module of bench/apps. */
const APPS = { flask: 'flask_app' };

/** Reads a cell name: f2w2:big is --fronts 2, -w 2, big.py. */
function parseCell(name) {
  const match = /^(?:f(\d+))?w(\d+):(\w+)$/.exec(name);
  if (!match) throw new Error(`not a cell: ${name} (want [f<fronts>]w<workers>:<app>)`);
  return { name, fronts: Number(match[1] ?? 1), workers: Number(match[2]), app: match[3] };
}

/** The server's processes by role: node processes with Python children are fronts; a node above fronts is the parent. */
function roles(leader) {
  const all = [];
  const stack = [leader];
  const byParent = new Map();
  for (const stat of listStats()) {
    if (!byParent.has(stat.ppid)) byParent.set(stat.ppid, []);
    byParent.get(stat.ppid).push(stat);
  }
  const seen = new Set();
  while (stack.length > 0) {
    const pid = stack.pop();
    if (seen.has(pid)) continue;
    seen.add(pid);
    const stat = readStat(pid);
    if (stat === null) continue;
    all.push(stat);
    for (const child of byParent.get(pid) ?? []) stack.push(child.pid);
  }
  const isNode = (stat) => stat.comm.startsWith('node') || stat.comm === 'portico';
  const ticks = { parent: 0, front: 0, worker: 0 };
  for (const stat of all) {
    if (!isNode(stat)) ticks.worker += stat.cpuTicks;
    else if ((byParent.get(stat.pid) ?? []).some(isNode)) ticks.parent += stat.cpuTicks;
    else ticks.front += stat.cpuTicks;
  }
  return ticks;
}

function listStats() {
  const stats = [];
  for (const name of readdirNumeric()) {
    const stat = readStat(Number(name));
    if (stat !== null) stats.push(stat);
  }
  return stats;
}

function readdirNumeric() {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name));
}

async function start(cell) {
  const port = await freePort();
  const argv = [process.execPath, bin, '-w', String(cell.workers), '-b', `127.0.0.1:${port}`, '--python', '/usr/bin/python3', '--chdir', apps, '--pythonpath', apps];
  if (cell.fronts !== 1) argv.push('--fronts', String(cell.fronts));
  argv.push(`${APPS[cell.app] ?? cell.app}:application`);
  const group = spawnGroup(argv, { cwd: apps, env: {}, logPath: join(logs, `${cell.name}.log`) });
  await waitReady(group, port, '/');
  return { ...cell, port, group, runs: [] };
}

async function measure(server, seconds, connections) {
  const url = `http://127.0.0.1:${server.port}/`;
  const before = roles(server.group.pgid);
  const report = await runWrk({ url, connections, seconds, threads: 1, timeoutSeconds: 5, script: closeScript });
  const after = roles(server.group.pgid);
  const perRequest = (role) => ((after[role] - before[role]) * TICK_US) / report.requests;
  return {
    requests: report.requests,
    rps: report.rps,
    errors: Object.values(report.errors).reduce((a, b) => a + b, 0) + report.non2xx,
    parentUs: perRequest('parent'),
    frontUs: perRequest('front'),
    workerUs: perRequest('worker'),
  };
}

const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const servers = [];
try {
  for (const name of values.cells.split(',')) servers.push(await start(parseCell(name)));
  for (const server of servers) await runWrk({ url: `http://127.0.0.1:${server.port}/`, connections, seconds: 2, threads: 1, timeoutSeconds: 5 });
  for (let round = 0; round < rounds; round++) {
    const order = servers.map((_, i) => servers[(i + round) % servers.length]);
    for (const server of order) {
      const run = await measure(server, seconds, connections);
      server.runs.push(run);
      console.error(`round ${round + 1} ${server.name}: ${run.rps.toFixed(0)} req/s, front ${run.frontUs.toFixed(1)} µs, worker ${run.workerUs.toFixed(1)} µs, parent ${run.parentUs.toFixed(2)} µs, errors ${run.errors}`);
    }
  }
} finally {
  for (const server of servers) await server.group.stop();
}

const rows = servers.map((server) => {
  const pick = (key) => median(server.runs.map((run) => run[key]));
  return { cell: server.name, rps: pick('rps'), frontUs: pick('frontUs'), workerUs: pick('workerUs'), parentUs: pick('parentUs'), errors: server.runs.reduce((a, r) => a + r.errors, 0) };
});
console.log(`| cell | req/s | front µs/req | worker µs/req | parent µs/req | workers one front core feeds | errors |`);
console.log(`| --- | ---: | ---: | ---: | ---: | ---: | ---: |`);
for (const row of rows) {
  const feeds = row.workerUs / row.frontUs;
  console.log(`| ${row.cell} | ${row.rps.toFixed(0)} | ${row.frontUs.toFixed(1)} | ${row.workerUs.toFixed(1)} | ${row.parentUs.toFixed(2)} | ${feeds.toFixed(2)} | ${row.errors} |`);
}
if (values.json) writeFileSync(values.json, JSON.stringify({ date: new Date().toISOString(), rounds, seconds, connections, rows, runs: servers.map((s) => ({ cell: s.name, runs: s.runs })) }, null, 2));
