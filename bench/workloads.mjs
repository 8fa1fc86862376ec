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
// Issue #14: uvicorn on websockets, and Hypercorn on wsproto; one worker
// each; bare Node's ws package answering the same messages, the ceiling of
// portico's front, as bare Node http is for HTTP. A quick run takes them all.
const WS_PEERS = ['portico', 'bare-node', 'uvicorn', 'hypercorn'];
const WS_CELL = { kind: 'websocket', app: 'asgi_ws', path: '/', expectLength: 13, workers: [1], quickPeers: WS_PEERS.slice(1), peers: WS_PEERS };

// h2load's cells: 16 connections of 32 streams each. Node's HTTP/2 path
// takes longer than its HTTP/1.1 one to reach its pace (the JIT): a short
// warm-up measured that, not the pace.
const H2LOAD = { driver: 'h2load', streams: 32, connections: [16], warmupSeconds: 3 };
// WSGI hello world over TLS: what the HTTPS, handshake and HTTP/2 cells serve.
const TLS_HELLO = { kind: 'wsgi', app: 'hello', path: '/', expectLength: 13, metric: 'rps', tls: true };

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
  // Issue #16: HTTPS over HTTP/1.1 (wrk), and HTTP/2 with h2load, 16
  // connections of 32 streams each, against nginx terminating TLS and h2 in
  // front of uWSGI, and against Hypercorn's own h2 (its Debian 12 version
  // serves ASGI only, hence the ASGI hello world for it).
  // Bare Node https and http2 answering from memory beside them: what TLS
  // and HTTP/2 cost Node itself, the ceiling of portico's front, as bare
  // Node http is in the hello cell.
  {
    id: 'https-hello',
    title: 'WSGI hello world over HTTPS, HTTP/1.1',
    ...TLS_HELLO,
    quickPeers: ['nginx-tls-uwsgi', 'bare-node'],
    peers: ['portico', 'nginx-tls-uwsgi', 'bare-node'],
  },
  {
    id: 'tls-handshakes',
    title: 'TLS handshakes: hello world over HTTPS on a new connection each, a full handshake each',
    ...TLS_HELLO,
    // openssl s_time -new (bench/tls-handshakes.mjs): never a resumed
    // session, where wrk resumed about half, and a share that moved with
    // the server. An OpenSSL 3 client's full handshake costs more CPU than
    // the server's, so on a machine of few cores the clients take much of
    // it: compare the servers by their CPU per handshake as well as the rate.
    driver: 's_time',
    connections: [16],
    quickPeers: ['bare-node'],
    peers: ['portico', 'bare-node'],
  },
  {
    id: 'h2-hello',
    title: 'WSGI hello world over HTTP/2 (h2load, 16 connections × 32 streams)',
    ...TLS_HELLO,
    ...H2LOAD,
    quickPeers: ['nginx-tls-uwsgi', 'bare-node'],
    peers: ['portico', 'nginx-tls-uwsgi', 'bare-node'],
  },
  {
    id: 'h2-asgi-hello',
    title: 'ASGI hello world over HTTP/2 (h2load, 16 connections × 32 streams)',
    kind: 'asgi',
    app: 'asgi_hello',
    path: '/',
    expectLength: 13,
    metric: 'rps',
    tls: true,
    ...H2LOAD,
    quickPeers: ['hypercorn'],
    peers: ['portico', 'hypercorn'],
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
  // Driven by bench/ws-client.mjs, not wrk: `path` is what the readiness
  // probe and the answer check ask for over HTTP, `wsPath` the WebSocket's.
  {
    ...WS_CELL,
    id: 'ws-echo',
    title: 'WebSocket echo round trips (64-byte text)',
    wsPath: '/echo',
    mode: 'echo',
    connections: [64],
    metric: 'roundtrips',
    method: 'each connection sends a 64-byte text message and waits for its echo before sending the next',
  },
  {
    ...WS_CELL,
    id: 'ws-down',
    title: 'WebSocket messages one way, app to client (64-byte text)',
    wsPath: '/down',
    mode: 'down',
    connections: [64],
    metric: 'messages',
    method: 'each connection asks the app for bursts of 200 messages of 64 bytes, keeping two bursts asked for, so that the app always has the next one to send',
  },
  {
    ...WS_CELL,
    id: 'ws-up',
    title: 'WebSocket messages one way, client to app (64-byte text)',
    wsPath: '/up',
    mode: 'up',
    connections: [64],
    metric: 'messages',
    method: 'each connection sends bursts of 200 messages of 64 bytes, each burst closed by a "?" which the app answers with its count; two bursts in flight, and a message counts once the app has acknowledged it',
  },
  {
    ...WS_CELL,
    id: 'ws-idle',
    title: '10,000 idle WebSockets, 1 worker',
    wsPath: '/idle',
    mode: 'idle',
    connections: [10000],
    // Every connection is a descriptor in the client and in the server.
    files: 11000,
    metric: 'idleBytes',
    method: 'the client opens 10,000 WebSockets (200 handshakes at a time) and holds them; the server\'s memory is read before and once it has settled with all of them open',
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
// In the WebSocket cells a "request" is a round trip or a message, and
// non2xx counts the messages that came back wrong.
const answered = (result) => (result.requests - result.non2xx) / result.seconds;
export const METRICS = {
  rps: { label: 'req/s', unit: 'req', value: answered },
  mibps: { label: 'MiB/s', unit: 'req', value: (result) => result.bytesRead / result.seconds / 2 ** 20 },
  roundtrips: { label: 'round trips/s', unit: 'round trip', value: answered },
  messages: { label: 'messages/s', unit: 'message', value: answered },
  // Server memory (RSS, whole process tree) each open connection adds.
  idleBytes: { label: 'KiB RSS per connection', unit: 'connection', lowerIsBetter: true, value: (result) => result.perConnection.rss / 1024 },
};
