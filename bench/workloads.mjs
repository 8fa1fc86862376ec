// The workloads, as data: what is requested, which app answers, which
// servers take part, and whether the result is counted in requests or bytes.
// A workload may fix its own worker and connection counts (the 1,000 awaits
// on one worker); the others run at every count of the plan.
import { fileURLToPath } from 'node:url';

const POST_10MIB = fileURLToPath(new URL('./wrk/post-10mib.lua', import.meta.url));

// The production peers (issue #15) beside the servers speaking HTTP themselves.
const WSGI_PEERS = ['portico', 'uwsgi', 'gunicorn-sync', 'gunicorn-gthread', 'mod-wsgi', 'waitress', 'nginx-uwsgi', 'nginx-gunicorn'];
const CGI_PEERS = ['portico', 'apache-cgid', 'nginx-fcgiwrap'];
// Issue #13: uvicorn as most users install it and in pure Python, Hypercorn, Daphne, gunicorn with uvicorn's worker.
const ASGI_PEERS = ['portico', 'uvicorn', 'uvicorn-h11', 'hypercorn', 'daphne', 'gunicorn-uvicorn'];

export const workloads = [
  {
    id: 'hello',
    title: 'WSGI hello world (13 bytes)',
    kind: 'wsgi',
    app: 'hello',
    path: '/',
    expectLength: 13,
    metric: 'rps',
    baseline: true,
    peers: ['portico', 'bare-node', ...WSGI_PEERS.slice(1)],
  },
  { id: 'flask', title: 'Flask route returning JSON', kind: 'wsgi', app: 'flask', path: '/', metric: 'rps', baseline: true, peers: WSGI_PEERS },
  { id: 'django', title: 'Django view (DEBUG off)', kind: 'wsgi', app: 'django', path: '/', metric: 'rps', baseline: true, peers: WSGI_PEERS },
  {
    id: 'big',
    title: '100 KiB response',
    kind: 'wsgi',
    app: 'big',
    path: '/',
    expectLength: 102400,
    metric: 'mibps',
    bareNode: 'big',
    peers: ['portico', 'bare-node', ...WSGI_PEERS.slice(1)],
  },
  {
    id: 'echo',
    title: '10 MiB POST echo',
    kind: 'wsgi',
    app: 'echo',
    path: '/',
    script: POST_10MIB,
    metric: 'mibps',
    long: true,
    bareNode: 'echo',
    peers: ['portico', 'bare-node', ...WSGI_PEERS.slice(1)],
  },
  { id: 'cgi-python', title: 'Python CGI script', kind: 'cgi', app: 'hello', path: '/cgi-bin/hello.py', expectLength: 13, metric: 'rps', long: true, peers: CGI_PEERS },
  { id: 'cgi-shell', title: 'Shell CGI script', kind: 'cgi', app: 'hello', path: '/cgi-bin/hello.sh', expectLength: 13, metric: 'rps', long: true, peers: CGI_PEERS },
  {
    id: 'static',
    title: '10 KiB static file',
    kind: 'static',
    app: 'hello',
    path: '/static/file-10k.bin',
    expectLength: 10240,
    metric: 'rps',
    // bare Node answering the same bytes from memory: the ceiling of any static server in Node.
    peers: ['portico', 'nginx-static', 'bare-node'],
  },
  {
    id: 'asgi-hello',
    title: 'ASGI hello world (13 bytes)',
    kind: 'asgi',
    app: 'asgi_hello',
    path: '/',
    expectLength: 13,
    metric: 'rps',
    baseline: true,
    peers: ASGI_PEERS,
  },
  { id: 'fastapi', title: 'FastAPI route returning JSON', kind: 'asgi', app: 'fastapi', path: '/', metric: 'rps', baseline: true, peers: ASGI_PEERS },
  {
    id: 'asgi-big',
    title: '100 KiB ASGI response',
    kind: 'asgi',
    app: 'asgi_big',
    path: '/',
    expectLength: 102400,
    metric: 'mibps',
    // No target names a peer here; the quick run still compares with uvicorn.
    quickPeers: ['uvicorn'],
    peers: ASGI_PEERS,
  },
  {
    id: 'asgi-sleep',
    title: '1,000 connections awaiting 100 ms each, 1 worker',
    kind: 'asgi',
    app: 'asgi_sleep',
    path: '/',
    expectLength: 13,
    metric: 'rps',
    long: true,
    // Every request waits 100 ms without using the CPU: 1,000 of them at
    // once on one worker can at best make 10,000 req/s.
    workers: [1],
    connections: [1000],
    ideal: 10000,
    peers: ASGI_PEERS,
  },
];

/** The worker counts a workload runs at under a plan. */
export function workersOf(workload, plan) {
  return workload.workers ?? plan.workers;
}

/** The connection counts a workload runs at under a plan. */
export function connectionsOf(workload, plan) {
  return workload.connections ?? plan.connections;
}

// Throughput counts answered requests only: a server that sheds load with
// fast 5xx responses must not look faster for it (wrk's own Requests/sec
// counts every response, whatever its status).
export const METRICS = {
  rps: { label: 'req/s', value: (result) => (result.requests - result.non2xx) / result.seconds },
  mibps: { label: 'MiB/s', value: (result) => result.bytesRead / result.seconds / 2 ** 20 },
};
