#!/usr/bin/env node
// Endurance run, loopback only, stops by itself:
//   node scripts/soak.mjs [IDLE=1000] [SLOW=1000] [SECONDS=30]
// Starts portico on the conformance echo app (--headers-timeout 10), holds
// IDLE keep-alive and SLOW slowloris connections, runs wrk beside them, and
// prints throughput, latency and what happened to the slowloris connections.
// Needs `npx tsc -p .` first, wrk on PATH, and `ulimit -n` above IDLE+SLOW+200.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { writeFileSync } from 'node:fs';
import { startEchoServer } from '../dist/test/conformance/conformance-server.js';
import { holdConnections } from '../dist/test/http/soak.js';

const idle = Number(process.argv[2] ?? 1000);
const slow = Number(process.argv[3] ?? 1000);
const seconds = Number(process.argv[4] ?? 30);
const server = await startEchoServer(['--headers-timeout', '10', '--keep-alive', String(seconds + 30), '--workers', '2']);
const wrk = (label) => {
  const run = spawnSync('wrk', ['-t2', '-c32', `-d${Math.max(5, Math.floor(seconds / 3))}s`, '--latency', `${server.portico.url}/bench`], { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  const pick = (re) => (run.stdout.match(re)?.[1] ?? '?');
  const line = `${label}: ${pick(/Requests\/sec:\s+([\d.]+)/)} req/s, p50 ${pick(/50%\s+(\S+)/)}, p99 ${pick(/99%\s+(\S+)/)}, errors ${pick(/(Non-2xx[^\n]*|Socket errors[^\n]*)/) }`;
  report.push(line);
  console.log(line);
};
const report = [];
try {
  wrk('baseline (no held connections)');
  const started = Date.now();
  const held = await holdConnections(server.portico.port, idle, slow, 500);
  console.log(`holding ${idle} idle keep-alive + ${slow} slowloris connections (opened in ${Date.now() - started} ms)`);
  wrk(`with ${idle}+${slow} held`);
  const state = held.slowClosed();
  const outcome = `slowloris: ${state.closed}/${slow} closed by the server, ${state.got408} with a 408; idle still open: ${held.idleOpen()}/${idle}`;
  report.push(outcome);
  console.log(outcome);
  held.close();
  // The benchmark document's soak section (bench/report.mjs includes it).
  writeFileSync(
    new URL('../docs/benchmarks/soak.md', import.meta.url),
    [
      '## Endurance: idle and slowloris connections',
      '',
      `\`node scripts/soak.mjs ${idle} ${slow} ${seconds}\` on ${cpus().length} cores, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC: portico (2 workers, --headers-timeout 10) holds ${idle} idle keep-alive connections and ${slow} slowloris connections (headers trickled a byte at a time) while wrk (2 threads, 32 connections) measures the echo app beside them.`,
      '',
      ...report.map((line) => `- ${line}`),
      '',
    ].join('\n'),
  );
} finally {
  await server.stop();
}
