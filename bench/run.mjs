#!/usr/bin/env node
// npm run bench: portico against gunicorn, uWSGI, mod_wsgi, waitress, Apache
// mod_cgid, nginx + fcgiwrap, nginx and bare Node http, on loopback, with
// wrk; writes docs/benchmarks.md. See docs/benchmarks.md "Method".
//
//   node bench/run.mjs            full run (~25 min), writes docs/
//   node bench/run.mjs --quick    1 round, short runs, 1 worker, 64 connections;
//                                 writes to $TMPDIR/portico-bench-quick/ unless --out
//   options: --only hello,flask  --peers uwsgi,gunicorn-sync  --rounds N  --seconds N
//            --long-seconds N  --workers 1,2  --connections 64,256  --stream-bytes N
//            --out DIR  --no-install  --keep (keep the scratch directory)
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
import { workloads } from './workloads.mjs';
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
    peers: args.peers ? list(args.peers) : null,
  };
  if (args.rounds) plan.rounds = Number(args.rounds);
  if (args.seconds) plan.seconds = Number(args.seconds);
  if (args['long-seconds']) plan.longSeconds = Number(args['long-seconds']);
  if (args.workers) plan.workers = numbers(args.workers);
  if (args.connections) plan.connections = numbers(args.connections);
  if (args['stream-bytes']) plan.streamBytes = Number(args['stream-bytes']);
  return plan;
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
  log(`${plan.mode} run: ${chosen.length} workloads, workers ${plan.workers}, connections ${plan.connections}, ${plan.rounds} round(s); scratch ${work.paths.root}`);
  try {
    for (const workers of plan.workers) {
      for (const workload of chosen) {
        log(`${workload.title}, ${workers} worker(s)`);
        results.groups.push(await runGroup({ workload, workers, plan, work, log }));
      }
    }
    for (const name of ['hello', 'flask', 'django']) {
      if (!chosen.some((w) => w.app === name)) continue;
      results.baselines.push(await bareInterpreter(work.apps[name], work));
    }
    if (!plan.only || plan.only.includes('stream')) {
      const workers = Math.max(...plan.workers);
      for (const peerId of ['portico', 'uwsgi']) {
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
  for (const t of [...targets.ratios, ...targets.memory]) log(`  ${t.verdict.padEnd(22)} ${t.text}`);
}

main().catch(async (error) => {
  log(`failed: ${error.stack ?? error}`);
  await Promise.all([...liveGroups].map((group) => group.stop(2000)));
  process.exit(1);
});
