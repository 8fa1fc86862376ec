// The workloads, as data: what is requested, which app answers, which
// servers take part, and whether the result is counted in requests or bytes.
import { fileURLToPath } from 'node:url';

const POST_10MIB = fileURLToPath(new URL('./wrk/post-10mib.lua', import.meta.url));

const WSGI_PEERS = ['portico', 'uwsgi', 'gunicorn-sync', 'gunicorn-gthread', 'mod-wsgi', 'waitress'];
const CGI_PEERS = ['portico', 'apache-cgid', 'nginx-fcgiwrap'];

export const workloads = [
  {
    id: 'hello',
    title: 'WSGI hello world (13 bytes)',
    kind: 'wsgi',
    app: 'hello',
    path: '/',
    expectLength: 13,
    metric: 'rps',
    peers: ['portico', 'bare-node', ...WSGI_PEERS.slice(1)],
  },
  { id: 'flask', title: 'Flask route returning JSON', kind: 'wsgi', app: 'flask', path: '/', metric: 'rps', peers: WSGI_PEERS },
  { id: 'django', title: 'Django view (DEBUG off)', kind: 'wsgi', app: 'django', path: '/', metric: 'rps', peers: WSGI_PEERS },
  { id: 'big', title: '100 KiB response', kind: 'wsgi', app: 'big', path: '/', expectLength: 102400, metric: 'mibps', peers: WSGI_PEERS },
  {
    id: 'echo',
    title: '10 MiB POST echo',
    kind: 'wsgi',
    app: 'echo',
    path: '/',
    script: POST_10MIB,
    metric: 'mibps',
    long: true,
    peers: WSGI_PEERS,
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
];

// Throughput counts answered requests only: a server that sheds load with
// fast 5xx responses must not look faster for it (wrk's own Requests/sec
// counts every response, whatever its status).
export const METRICS = {
  rps: { label: 'req/s', value: (result) => (result.requests - result.non2xx) / result.seconds },
  mibps: { label: 'MiB/s', value: (result) => result.bytesRead / result.seconds / 2 ** 20 },
};
