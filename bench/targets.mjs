// The issue's targets, as data, and their verdicts from one run's results.
// A throughput target compares portico with a peer in the same cell (same
// worker and connection counts, same run) and is met when the ratio is met
// in every cell; the table also shows each cell's ratio.
import { findRow, workloadById } from './summary.mjs';
import { MiB } from './memory.mjs';
import { connectionsOf, workersOf } from './workloads.mjs';

export const RATIO_TARGETS = [
  { workload: 'hello', peer: 'uwsgi', min: 2.0, text: 'Hello world ≥ 2.0× uWSGI req/s' },
  { workload: 'hello', peer: 'gunicorn-sync', min: 4.0, text: 'Hello world ≥ 4× gunicorn sync req/s' },
  { workload: 'hello', peer: 'bare-node', min: 0.8, text: 'Hello world ≥ 0.8× bare Node http req/s' },
  { workload: 'hello', peer: 'uwsgi', p99: true, text: 'Hello world p99 ≤ uWSGI p99' },
  { workload: 'flask', peer: 'uwsgi', min: 1.3, text: 'Flask JSON ≥ 1.3× uWSGI req/s' },
  { workload: 'django', peer: 'uwsgi', min: 1.2, text: 'Django ≥ 1.2× uWSGI req/s' },
  { workload: 'cgi-shell', peer: 'apache-cgid', min: 1.5, text: 'Shell CGI ≥ 1.5× Apache mod_cgid req/s' },
  { workload: 'cgi-shell', peer: 'nginx-fcgiwrap', min: 1.2, text: 'Shell CGI ≥ 1.2× nginx + fcgiwrap req/s' },
  { workload: 'cgi-python', peer: 'apache-cgid', min: 1.0, text: 'Python CGI ≥ 1.0× Apache mod_cgid req/s' },
  { workload: 'static', peer: 'nginx-static', min: 0.7, text: 'Static 10 KiB ≥ 0.7× nginx (1 worker) req/s' },
  { workload: 'echo', peer: 'uwsgi', min: 1.0, text: '10 MiB POST echo ≥ 1.0× uWSGI MiB/s' },
  { workload: 'big', peer: 'uwsgi', min: 1.0, text: '100 KiB response ≥ 1.0× uWSGI MiB/s' },
  // Issue #13.
  { workload: 'asgi-hello', peer: 'uvicorn', min: 0.8, text: 'ASGI hello world ≥ 0.8× uvicorn (uvloop, httptools) req/s' },
  { workload: 'asgi-hello', peer: 'uvicorn-h11', min: 3.0, text: 'ASGI hello world ≥ 3× pure-Python uvicorn (asyncio, h11) req/s' },
  { workload: 'fastapi', peer: 'uvicorn', min: 1.2, text: 'FastAPI JSON ≥ 1.2× uvicorn (uvloop, httptools) req/s' },
  // Issue #14, one worker each. Their cells are their workloads' own (64
  // connections; 10,000), so the report gives them a table of their own.
  { workload: 'ws-echo', peer: 'uvicorn', min: 1.5, text: 'WebSocket echo ≥ 1.5× uvicorn (websockets) round trips/s, 64 connections' },
  { workload: 'ws-idle', peer: 'uvicorn', max: 1.0, text: 'Memory (RSS) per idle WebSocket, 10,000 open, ≤ uvicorn\'s (websockets)' },
  // Issue #16. The HTTPS one compares portico with itself over plain HTTP
  // (the hello cell of the same run). A `ceiling` peer is measured on the
  // same comparison in the same cells, in portico's place: bare Node
  // answering from memory, what Node's https or http2 does with nothing
  // behind it (the HTTPS one: bare Node https ÷ bare Node http).
  { workload: 'https-hello', versus: 'hello', peer: 'portico', ceiling: 'bare-node', min: 0.8, text: "HTTPS hello world (HTTP/1.1) ≥ 0.8× portico's own plain HTTP req/s" },
  { workload: 'tls-handshakes', peer: 'bare-node', min: 0.9, text: 'TLS handshakes per second within 10% of bare Node https (a new connection per request)' },
  { workload: 'h2-hello', peer: 'nginx-tls-uwsgi', ceiling: 'bare-node', min: 1.5, text: 'HTTP/2 hello world ≥ 1.5× nginx (h2) → uWSGI req/s, h2load -c 16 -m 32' },
  // Issue #15: against what users run in production (nginx in front of
  // uWSGI over uwsgi_pass) and against the front's own ceiling (bare Node
  // sending the same bytes). Its echo target is uWSGI's direct figure, the
  // one above.
  { workload: 'big', peer: 'nginx-uwsgi', min: 1.5, text: '100 KiB response ≥ 1.5× nginx → uWSGI MiB/s' },
  { workload: 'big', peer: 'bare-node', min: 0.4, text: '100 KiB response ≥ 0.4× bare Node sending the same bytes MiB/s' },
  { workload: 'static', peer: 'bare-node', min: 0.9, text: 'Static 10 KiB ≥ 0.9× bare Node sending it from memory req/s' },
  { workload: 'static', peer: 'nginx-static', min: 0.5, text: 'Static 10 KiB ≥ 0.5× nginx req/s' },
  { workload: 'hello', peer: 'bare-node', min: 0.65, text: 'Hello world ≥ 0.65× bare Node http req/s' },
  { workload: 'hello', peer: 'nginx-uwsgi', min: 1.5, text: 'Hello world ≥ 1.5× nginx → uWSGI req/s' },
  { workload: 'flask', peer: 'nginx-uwsgi', min: 1.3, text: 'Flask JSON ≥ 1.3× nginx → uWSGI req/s' },
  { workload: 'django', peer: 'nginx-uwsgi', min: 1.3, text: 'Django ≥ 1.3× nginx → uWSGI req/s' },
];

// Against what the workload could do at best (its `ideal`), not against a peer.
export const IDEAL_TARGETS = [
  { workload: 'asgi-sleep', min: 0.9, text: '1,000 × 100 ms awaits, 1 worker ≥ 0.9× the ideal 10,000 req/s' },
];

/** The peers the targets compare a workload with: what a quick run needs. */
export function targetPeers(workloadId) {
  return RATIO_TARGETS.filter((t) => t.workload === workloadId && t.versus === undefined).map((t) => t.peer);
}

const FRONT_IDLE_MAX = 70 * MiB;
const STREAM_PEAK_MAX = 150 * MiB;
// Issue #15: a 1 GiB body through portico, either way.
const STREAM_MIN_RATE = { download: 1.5 * 2 ** 30, upload: 2 ** 30 };
const WORKER_SLACK = 1.1;

function verdict(cells) {
  const measured = cells.filter((c) => c.ratio !== undefined);
  if (measured.length === 0) return 'not measured';
  const met = measured.filter((c) => c.met).length;
  if (met === measured.length) return 'met';
  if (met === 0) return 'not met';
  return `met in ${met} of ${measured.length} cells`;
}

/** The target's comparison with its ceiling peer in portico's place (and in the peer's, when the peer is portico itself). */
function ceilingRatio(target, key, rows) {
  const ours = findRow(rows, { ...key, peer: target.ceiling });
  const theirs = findRow(rows, { ...key, workload: target.versus ?? target.workload, peer: target.peer === 'portico' ? target.ceiling : target.peer });
  return ours?.value === undefined || theirs?.value === undefined ? undefined : ours.value / theirs.value;
}

function ratioTarget(target, rows, plan) {
  const cells = [];
  const workload = workloadById(target.workload);
  for (const workers of workersOf(workload, plan)) {
    for (const connections of connectionsOf(workload, plan)) {
      const key = { workload: target.workload, workers, connections };
      const ours = findRow(rows, { ...key, peer: 'portico' });
      const theirs = findRow(rows, { ...key, workload: target.versus ?? target.workload, peer: target.peer });
      const cell = { workers, connections };
      if (!ours) {
        cell.missing = 'not in this run';
      } else if (ours.value === undefined || theirs?.value === undefined) {
        cell.missing = ours?.value === undefined ? `portico ${ours?.status ?? 'not run'}` : `${target.peer} ${theirs?.status ?? 'not run'}`;
      } else if (target.p99) {
        cell.ratio = ours.p99 / theirs.p99;
        cell.met = cell.ratio <= 1;
      } else if (target.max !== undefined) {
        cell.ratio = ours.value / theirs.value;
        cell.met = cell.ratio <= target.max;
        Object.assign(cell, { ours: ours.value, theirs: theirs.value });
      } else {
        cell.ratio = ours.value / theirs.value;
        cell.met = cell.ratio >= target.min;
        Object.assign(cell, { ours: ours.value, theirs: theirs.value });
        if (target.ceiling) cell.ceiling = ceilingRatio(target, key, rows);
      }
      cells.push(cell);
    }
  }
  const kind = target.p99 ? 'p99' : target.max !== undefined ? 'at most' : 'ratio';
  return { text: target.text, workload: target.workload, peer: target.peer, ceiling: target.ceiling, kind, ownCells: Boolean(workload.connections), cells, verdict: verdict(cells) };
}

function idealTarget(target, rows, plan) {
  const workload = workloadById(target.workload);
  const cells = [];
  for (const workers of workersOf(workload, plan)) {
    for (const connections of connectionsOf(workload, plan)) {
      const ours = findRow(rows, { workload: workload.id, workers, connections, peer: 'portico' });
      const cell = { workers, connections };
      if (!ours) {
        cell.missing = 'not in this run';
      } else if (ours.value === undefined) {
        cell.missing = `portico ${ours.status}${ours.reason ? ` (${ours.reason})` : ''}`;
      } else {
        cell.value = ours.value;
        cell.ratio = ours.value / workload.ideal;
        cell.met = cell.ratio >= target.min;
      }
      cells.push(cell);
    }
  }
  return { text: target.text, ideal: workload.ideal, cells, verdict: verdict(cells) };
}

function porticoCell(results, workload, workers) {
  const group = results.groups.find((g) => g.workload === workload && g.workers === workers);
  return group?.cells.find((c) => c.peer === 'portico' && c.idle);
}

function memoryTargets(results) {
  const targets = [];
  const oneWorker = Math.min(...results.plan.workers);
  const hello = porticoCell(results, 'hello', oneWorker);
  if (hello) {
    const front = hello.idle.processes.find((p) => p.pid === hello.leaderPid);
    targets.push({
      text: 'Idle front ≤ 70 MiB RSS',
      measured: `${(front.rss / MiB).toFixed(1)} MiB RSS (PSS ${(front.pss / MiB).toFixed(1)} MiB)`,
      verdict: front.rss <= FRONT_IDLE_MAX ? 'met' : 'not met',
    });
  } else {
    targets.push({ text: 'Idle front ≤ 70 MiB RSS', measured: 'portico did not run', verdict: 'not measured' });
  }
  for (const baseline of results.baselines ?? []) {
    // Results written before baselines named their workload: hello, flask and django, whose ids are their apps'.
    const workload = workloadById(baseline.workload ?? baseline.app);
    const cell = porticoCell(results, workload.id, oneWorker);
    const text = workload.kind === 'asgi'
      ? `Idle ASGI worker (${workload.title}) RSS within 10% of a bare python importing the same app`
      : `Each ${baseline.app} worker within 10% of a bare python importing the app`;
    if (!cell) {
      targets.push({ text, measured: 'portico did not run', verdict: 'not measured' });
      continue;
    }
    const workers = cell.idle.processes.filter((p) => p.pid !== cell.leaderPid);
    const worst = Math.max(...workers.map((p) => p.rss));
    const ratio = worst / baseline.rss;
    targets.push({
      text,
      measured: `worker ${(worst / MiB).toFixed(1)} MiB vs bare ${(baseline.rss / MiB).toFixed(1)} MiB RSS: ${ratio.toFixed(2)}×`,
      ratio,
      verdict: ratio <= WORKER_SLACK ? 'met' : 'not met',
    });
  }
  const stream = (results.streams ?? []).find((s) => s.peer === 'portico');
  for (const direction of ['upload', 'download']) {
    const text = `Peak RSS of all processes ≤ 150 MiB during a ${formatBytes(results.plan.streamBytes)} ${direction}`;
    const t = stream?.[direction];
    if (!t) {
      targets.push({ text, measured: stream?.error ?? 'not run', verdict: 'not measured' });
      continue;
    }
    targets.push({
      text,
      measured: `${(t.peak.rss / MiB).toFixed(1)} MiB RSS (PSS ${(t.peak.pss / MiB).toFixed(1)} MiB), ${t.ok ? 'transfer complete' : `transfer failed: ${t.output}`}`,
      verdict: t.ok && t.peak.rss <= STREAM_PEAK_MAX ? 'met' : 'not met',
    });
  }
  return targets;
}

/** Issue #15: how fast a body streams through portico, one curl each way. */
function streamTargets(results) {
  const stream = (results.streams ?? []).find((s) => s.peer === 'portico');
  return ['download', 'upload'].map((direction) => {
    const minimum = STREAM_MIN_RATE[direction];
    const text = `A ${formatBytes(results.plan.streamBytes)} ${direction} at ≥ ${minimum / 2 ** 30} GiB/s (curl, one connection)`;
    const t = stream?.[direction];
    if (!t) return { text, measured: stream?.error ?? 'not run', verdict: 'not measured' };
    if (!t.ok) return { text, measured: `transfer failed: ${t.output}`, verdict: 'not met' };
    const rate = stream.bytes / t.seconds;
    return { text, measured: `${(rate / 2 ** 30).toFixed(2)} GiB/s (${t.seconds.toFixed(2)} s)`, verdict: rate >= minimum ? 'met' : 'not met' };
  });
}

export function formatBytes(bytes) {
  return bytes >= 2 ** 30 ? `${bytes / 2 ** 30} GiB` : `${bytes / 2 ** 20} MiB`;
}

export function evaluateTargets(results, rows) {
  return {
    ratios: RATIO_TARGETS.map((target) => ratioTarget(target, rows, results.plan)),
    ideals: IDEAL_TARGETS.map((target) => idealTarget(target, rows, results.plan)),
    memory: memoryTargets(results),
    streams: streamTargets(results),
  };
}
