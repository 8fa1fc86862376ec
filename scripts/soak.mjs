#!/usr/bin/env node
// Endurance run, loopback only, stops by itself:
//   node scripts/soak.mjs [IDLE=1000] [SLOW=1000] [SECONDS=30]
// Starts portico on the conformance echo app (--headers-timeout 10), holds
// IDLE keep-alive and SLOW slowloris connections, runs wrk beside them, and
// prints throughput, latency and what happened to the slowloris connections.
// Needs `npx tsc -p .` first, wrk on PATH, and `ulimit -n` above IDLE+SLOW+200.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cpus } from 'node:os';
import { writeFileSync } from 'node:fs';
import { startEchoServer } from '../dist/test/conformance/conformance-server.js';
import { holdConnections } from '../dist/test/http/soak.js';

const idle = Number(process.argv[2] ?? 1000);
const slow = Number(process.argv[3] ?? 1000);
const seconds = Number(process.argv[4] ?? 30);
const server = await startEchoServer(['--headers-timeout', '10', '--keep-alive', String(seconds + 30), '--workers', '2']);
// wrk runs asynchronously, so that this process keeps trickling its slowloris bytes meanwhile.
const wrk = async (label) => {
  const run = await promisify(execFile)('wrk', ['-t2', '-c32', `-d${Math.max(5, Math.floor(seconds / 3))}s`, '--latency', `${server.portico.url}/bench`], { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  const pick = (re, none = '?') => (run.stdout.match(re)?.[1] ?? none);
  const line = `${label}: ${pick(/Requests\/sec:\s+([\d.]+)/)} req/s, p50 ${pick(/^\s+50%\s+(\S+)/m)}, p99 ${pick(/^\s+99%\s+(\S+)/m)}, errors: ${pick(/(Non-2xx[^\n]*|Socket errors[^\n]*)/, 'none')}`;
  report.push(line);
  console.log(line);
};
const report = [];
try {
  await wrk('baseline (no held connections)');
  const started = Date.now();
  const held = await holdConnections(server.portico.port, idle, slow, 500);
  console.log(`holding ${idle} idle keep-alive + ${slow} slowloris connections (opened in ${Date.now() - started} ms)`);
  await wrk(`with ${idle}+${slow} held`);
  // Give the headers timeout (10 s) time to fire on every slowloris connection.
  const settle = started + 15_000 - Date.now();
  if (settle > 0) await new Promise((resolve) => setTimeout(resolve, settle));
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
