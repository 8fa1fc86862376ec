#!/usr/bin/env node
// npm run bench: portico against gunicorn, uWSGI, mod_wsgi, waitress, nginx
// in front of uWSGI and of gunicorn, Apache mod_cgid, nginx + fcgiwrap, nginx
// and bare Node http, and for ASGI against uvicorn, Hypercorn, Daphne and
// gunicorn's UvicornWorker, on loopback, with wrk; WebSockets against uvicorn
// and Hypercorn with bench/ws-client.mjs; HTTPS and HTTP/2 (h2load) against
// nginx terminating them in front of uWSGI, and Hypercorn; writes
// docs/benchmarks.md.
// See docs/benchmarks.md "Method".
//
//   node bench/run.mjs            full run, every peer, writes docs/
//   node bench/run.mjs --quick    1 round, short runs, 1 worker, 64 connections,
//                                 and only the peers the targets name, so that
//                                 every target gets a verdict in a few minutes;
//                                 writes to $TMPDIR/portico-bench-quick/ unless --out
//   options: --only hello,flask  --peers uwsgi,gunicorn-sync (or all)  --rounds N
//            --seconds N  --long-seconds N  --workers 1,2  --connections 64,256
//            --stream-bytes N  --out DIR  --no-install  --keep (keep the scratch directory)
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bareInterpreter } from './baseline.mjs';
import { ensurePackages } from './deps.mjs';
import { describeMachine } from './machine.mjs';
import { runGroup } from './matrix.mjs';
import { liveGroups } from './process-group.mjs';
import { writeReport } from './report.mjs';
import { streamTest } from './stream-test.mjs';
import { workersOf, workloads } from './workloads.mjs';
import { porticoRevision, prepareWorkdir } from './workdir.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    peers: { type: 'string' },
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    'long-seconds': { type: 'string' },
    workers: { type: 'string' },
    connections: { type: 'string' },
    'stream-bytes': { type: 'string' },
    out: { type: 'string' },
    'no-install': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

const list = (text) => text.split(',').map((s) => s.trim()).filter(Boolean);
const numbers = (text) => list(text).map(Number);

function makePlan() {
  const quick = args.quick;
  const plan = {
    mode: quick ? 'quick' : 'full',
    rounds: quick ? 1 : 3,
    seconds: 2,
    longSeconds: quick ? 3 : 4,
    warmupSeconds: 1,
    workers: quick ? [1] : [1, 2],
    connections: quick ? [64] : [64, 256],
    // On a small machine wrk gets half the cores, the servers the rest.
    wrkThreads: Math.max(1, Math.floor(describeMachine().cores / 2)),
    wrkTimeout: 30,
    streamBytes: quick ? 256 * 2 ** 20 : 2 ** 30,
    only: args.only ? list(args.only) : null,
    peers: args.peers && args.peers !== 'all' ? list(args.peers) : null,
    // A quick run without --peers takes only the peers the targets name.
    quickPeers: quick && args.peers === undefined,
  };
  if (args.rounds) plan.rounds = Number(args.rounds);
  if (args.seconds) plan.seconds = Number(args.seconds);
  if (args['long-seconds']) plan.longSeconds = Number(args['long-seconds']);
  if (args.workers) plan.workers = numbers(args.workers);
  if (args.connections) plan.connections = numbers(args.connections);
  if (args['stream-bytes']) plan.streamBytes = Number(args['stream-bytes']);
  return plan;
}

/**
 * The groups to run, in order: each workload at each worker count, except
 * that a workload with counts of its own runs at those, once, with the first.
 */
function groupsOf(plan, chosen) {
  const groups = [];
  for (const [index, workers] of plan.workers.entries()) {
    for (const workload of chosen) {
      if (!workload.workers) groups.push({ workload, workers });
      else if (index === 0) groups.push(...workersOf(workload, plan).map((own) => ({ workload, workers: own })));
    }
  }
  return groups;
}

function log(line) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function stopEverything(signal) {
  log(`${signal}: stopping ${liveGroups.size} server process group(s)`);
  await Promise.all([...liveGroups].map((group) => group.stop(2000)));
  process.exit(130);
}

async function main() {
  process.on('SIGINT', () => stopEverything('SIGINT'));
  process.on('SIGTERM', () => stopEverything('SIGTERM'));
  if (!args['no-install']) ensurePackages(log);
  if (!existsSync(join(root, 'dist', 'src'))) throw new Error('dist/ is missing: run npm run build first');

  const plan = makePlan();
  const chosen = workloads.filter((w) => !plan.only || plan.only.includes(w.id));
  const outDir = args.out ?? (args.quick ? join(tmpdir(), 'portico-bench-quick') : join(root, 'docs'));
  const results = { plan, machine: { ...describeMachine(), portico: porticoRevision() }, startedAt: Date.now(), groups: [], baselines: [], streams: [] };
  const work = prepareWorkdir();
  results.workdir = work.paths.root;
  results.scratch = work.paths.scratch;
  log(`${plan.mode} run: ${chosen.length} workloads, workers ${plan.workers}, connections ${plan.connections}, ${plan.rounds} round(s); scratch ${work.paths.root}`);
  try {
    for (const { workload, workers } of groupsOf(plan, chosen)) {
      log(`${workload.title}, ${workers} worker(s)`);
      results.groups.push(await runGroup({ workload, workers, plan, work, log }));
    }
    for (const workload of chosen.filter((w) => w.baseline)) {
      results.baselines.push({ ...(await bareInterpreter(work.apps[workload.app], work)), workload: workload.id });
    }
    if (!plan.only || plan.only.includes('stream')) {
      const workers = Math.max(...plan.workers);
      // uWSGI is there to compare with; no target names it.
      const streamPeers = plan.quickPeers ? ['portico'] : ['portico', 'uwsgi'].filter((id) => !plan.peers || id === 'portico' || plan.peers.includes(id));
      for (const peerId of streamPeers) {
        log(`streaming ${plan.streamBytes} bytes up and down through ${peerId}`);
        try {
          results.streams.push(await streamTest({ peerId, workers, bytes: plan.streamBytes, work, log }));
        } catch (error) {
          results.streams.push({ peer: peerId, label: peerId, workers, error: error.message.split('\n')[0] });
        }
      }
    }
  } finally {
    results.finishedAt = Date.now();
    if (!args.keep) work.remove();
  }
  const { page, targets } = writeReport(results, outDir);
  log(`wrote ${page}`);
  for (const t of [...targets.ratios, ...targets.ideals, ...targets.memory, ...targets.streams]) log(`  ${t.verdict.padEnd(22)} ${t.text}`);
}

main().catch(async (error) => {
  log(`failed: ${error.stack ?? error}`);
  await Promise.all([...liveGroups].map((group) => group.stop(2000)));
  process.exit(1);
});
