// One group of cells: a workload at one worker count. Every server of the
// workload is started (each on its own loopback port), measured idle, and
// then driven by wrk in rounds; in each round the servers take turns in a
// rotated order, so that no server gets all its runs back to back while
// the machine happens to be quiet or busy. The WebSocket cells take the same
// turns, driven by bench/ws-client.mjs instead of wrk, and the idle one
// measures memory per connection (ws-idle.mjs) instead of throughput.
import { setTimeout as sleep } from 'node:timers/promises';
import { startCpuMeter, waitIdle } from './cpu.mjs';
import { treeMemory, sampleWhile, peakOf } from './memory.mjs';
import { freePort, openFileLimit, probe } from './process-group.mjs';
import { peers } from './peers/index.mjs';
import { NotAvailableError } from './peers/server.mjs';
import { targetPeers } from './targets.mjs';
import { METRICS, connectionsOf } from './workloads.mjs';
import { runH2load } from './h2load.mjs';
import { runHandshakes } from './tls-handshakes.mjs';
import { runWrk } from './wrk.mjs';
import { measureIdle } from './ws-idle.mjs';
import { openIdle, runWsLoad } from './ws-load.mjs';

function rotate(list, by) {
  const n = by % list.length;
  return [...list.slice(n), ...list.slice(0, n)];
}

/**
 * The servers of one group: those --peers names, or in a quick run those
 * the targets compare the workload with (or its quickPeers), so that a quick
 * run gives every target a verdict in a few minutes; portico always.
 */
function peersFor(workload, workers, plan) {
  const wanted = plan.peers ?? (plan.quickPeers ? workload.quickPeers ?? targetPeers(workload.id) : null);
  return workload.peers
    .filter((id) => !wanted || wanted.includes(id) || id === 'portico')
    .filter((id) => !(workers > 1 && peers[id].onlyAtOneWorker));
}

async function startServer(peer, ctx) {
  const cell = { peer: peer.id, label: peer.labelFor?.(ctx.workload) ?? peer.label, status: 'ok', runs: [] };
  if (peer.closesConnections) cell.closesConnections = true;
  const missing = peer.missing();
  if (missing) return { cell: { ...cell, status: 'not available', reason: missing } };
  try {
    const server = await peer.start(ctx);
    cell.commands = server.commands;
    cell.configFiles = server.configFiles;
    cell.leaderPid = server.leaderPid;
    return { cell, server };
  } catch (error) {
    if (error instanceof NotAvailableError) return { cell: { ...cell, status: 'not available', reason: error.message } };
    const tail = (error.log ?? '').trim().split('\n').slice(-15).join('\n');
    return { cell: { ...cell, status: 'failed', reason: error.message, log: tail } };
  }
}

/** Checks the answer is the one every server must give (same bytes). */
async function checkAnswer(workload, port) {
  const answer = await probe(port, workload.path, { tls: workload.tls === true });
  if (answer.status !== 200) return `status ${answer.status}`;
  if (workload.expectLength && answer.length !== workload.expectLength) {
    return `body of ${answer.length} bytes, expected ${workload.expectLength}`;
  }
  return null;
}

export async function runGroup({ workload, workers, plan, work, log }) {
  const app = work.apps[workload.app];
  const started = [];
  const counts = connectionsOf(workload, plan);
  for (const id of peersFor(workload, workers, plan)) {
    const ctx = { port: await freePort(), workers, workload, app, work: work.paths, connections: Math.max(...counts), files: workload.files };
    const { cell, server } = await startServer(peers[id], ctx);
    if (server && workload.files) {
      // Raised as far as the hard limit allows: say so if that is too little.
      cell.openFiles = openFileLimit(server.leaderPid);
      if (cell.openFiles < ctx.connections + 100) {
        cell.status = 'failed';
        cell.reason = `open-file limit ${cell.openFiles} (ulimit -Hn) is too low for ${ctx.connections} connections`;
        await server.stop();
      }
    }
    if (server && cell.status === 'ok') {
      const wrong = await checkAnswer(workload, server.port).catch((error) => error.message);
      if (wrong) {
        cell.status = 'failed';
        cell.reason = `wrong answer: ${wrong}`;
        await server.stop();
      }
    }
    log(`  ${workload.id} w${workers} ${id}: ${cell.status}${cell.reason ? ` (${cell.reason})` : ''}`);
    started.push({ cell, ctx, server: cell.status === 'ok' ? server : undefined });
  }
  const live = started.filter((s) => s.server);
  try {
    await sleep(1000);
    for (const { cell, server } of live) {
      cell.idle = treeMemory(server.pids());
    }
    const seconds = workload.long ? plan.longSeconds : plan.seconds;
    const drive = (server, connections, duration) => {
      const url = `${workload.tls ? 'https' : 'http'}://127.0.0.1:${server.port}${workload.path}`;
      // HTTP/2: h2load keeps workload.streams requests open on each connection.
      if (workload.driver === 'h2load') {
        return runH2load({ url, connections, streams: workload.streams, seconds: duration, threads: plan.wrkThreads, timeoutSeconds: plan.wrkTimeout });
      }
      // TLS handshakes: a full one for every request (tls-handshakes.mjs says why not wrk).
      if (workload.driver === 's_time') return runHandshakes({ url, connections, seconds: duration, timeoutSeconds: plan.wrkTimeout });
      if (workload.kind !== 'websocket') {
        return runWrk({
          url,
          connections,
          seconds: duration,
          threads: plan.wrkThreads,
          timeoutSeconds: plan.wrkTimeout,
          script: workload.script,
        });
      }
      const wsUrl = `ws://127.0.0.1:${server.port}${workload.wsPath}`;
      if (workload.mode === 'idle') return measureIdle({ server, url: wsUrl, connections, files: workload.files, timeoutSeconds: plan.wrkTimeout });
      return runWsLoad({ url: wsUrl, mode: workload.mode, connections, seconds: duration, timeoutSeconds: plan.wrkTimeout, pidsFn: () => server.pids() });
    };
    const warmUp = async (server) => {
      if (plan.warmupSeconds === 0) return;
      if (workload.mode === 'idle') {
        // Code paths and buffers warmed, as the integration test does, before the baseline.
        await openIdle({ url: `ws://127.0.0.1:${server.port}${workload.wsPath}`, connections: 200 }).then((idle) => idle.close()).catch(() => {});
      } else {
        await drive(server, counts[0], workload.warmupSeconds ?? plan.warmupSeconds).catch(() => {});
      }
      await waitIdle(() => server.pids());
    };
    for (const { server } of live) await warmUp(server);
    for (let round = 0; round < plan.rounds; round++) {
      for (const [index, connections] of counts.entries()) {
        for (const entry of rotate(live, round + index)) {
          const { cell } = entry;
          if (cell.status !== 'ok') continue;
          // A server that has held 10,000 connections keeps much of the
          // memory they took (allocators rarely give it back), so a later
          // round would measure reuse, not cost: each round gets a fresh one.
          if (workload.mode === 'idle' && round > 0) {
            await entry.server.stop();
            const again = await startServer(peers[cell.peer], entry.ctx);
            if (!again.server) {
              cell.status = 'failed';
              cell.reason = `restart for round ${round + 1}: ${again.cell.reason}`;
              entry.server = undefined;
              continue;
            }
            entry.server = again.server;
            await warmUp(entry.server);
          }
          const { server } = entry;
          const sampler = sampleWhile(() => server.pids(), Math.max(300, (seconds * 1000) / 4));
          const cpu = startCpuMeter(() => server.pids());
          let result;
          try {
            // The WebSocket cells measure their own CPU: over the timed span
            // alone, or for the idle one over the handshakes alone.
            const measured = await drive(server, connections, seconds);
            result = { cpu: cpu.stop(), ...measured };
          } catch (error) {
            result = { error: error.message.slice(0, 500) };
          }
          const memory = sampler.stop();
          result.settleMs = await waitIdle(() => server.pids());
          delete result.raw;
          cell.runs.push({ round, connections, leaderPid: server.leaderPid, ...result });
          cell.load ??= {};
          cell.load[connections] = peakOf(cell.load[connections], memory);
          log(`  ${workload.id} w${workers} c${connections} r${round + 1} ${cell.peer}: ${describe(result, workload)}`);
          if (server.groups.some((group) => group.exited)) {
            cell.status = 'failed';
            cell.reason = 'exited under load';
          }
        }
      }
    }
  } finally {
    await Promise.all(live.filter(({ server }) => server).map(({ server }) => server.stop()));
  }
  return { workload: workload.id, workers, cells: started.map((s) => s.cell) };
}

function describe(result, workload) {
  if (result.error) return `error ${result.error.split('\n')[0]}`;
  const errors = Object.values(result.errors).reduce((a, b) => a + b, 0) + result.non2xx;
  const tail = errors ? `, ${errors} errors` : '';
  if (workload.metric === 'idleBytes') {
    return `${(result.perConnection.rss / 1024).toFixed(1)} KiB RSS per connection, ${result.requests} open in ${result.seconds.toFixed(1)} s${tail}`;
  }
  const rate = workload.metric === 'mibps' ? `${(result.bytesRead / result.seconds / 2 ** 20).toFixed(1)} MiB/s` : `${result.rps.toFixed(0)} ${METRICS[workload.metric].label}`;
  const p99 = Number.isFinite(result.latency.p99) ? `, p99 ${(result.latency.p99 * 1000).toFixed(2)} ms` : '';
  return `${rate}${p99}${tail}`;
}
