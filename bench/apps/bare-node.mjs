// The front's ceiling: Node's http module and nothing else, sending the
// bytes the Python apps send.
//
//   bare-node.mjs HOST PORT            hello world (hello.py's 13 bytes)
//   bare-node.mjs HOST PORT big        big.py's 100 KiB, built once at start
//   bare-node.mjs HOST PORT echo       the request body back, as echo.py does
//   bare-node.mjs HOST PORT file PATH  that file's bytes, read once at start
//                                      (the static workload): what any Node
//                                      static server costs at the least, with
//                                      no file system work at all
//   bare-node.mjs HOST PORT ws         hello world, and the WebSockets of
//                                      asgi_ws.py (/echo, /down, /up, /idle)
//                                      answered by the ws package itself: what
//                                      portico's front costs at the least
//
// With BARE_NODE_TLS_CERT and BARE_NODE_TLS_KEY (PEM files), the same over
// Node's https with its defaults: what a TLS handshake costs at the least.
// With BARE_NODE_HTTP2=1 as well, hello world over Node's http2 (h2 by ALPN,
// http/1.1 besides), each stream answered from the session's 'stream' event
// with respond() and end(): Node's cheapest HTTP/2 path, the ceiling of
// portico's HTTP/2 front.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureServer as createHttp2Server } from 'node:http2';
import { WebSocketServer } from 'ws';

const [host, port, mode = 'hello', file] = process.argv.slice(2);

function fixed(body, type) {
  const head = { 'Content-Type': type, 'Content-Length': body.length };
  return (req, res) => {
    res.writeHead(200, head);
    res.end(body);
  };
}

function bigBody() {
  const body = Buffer.alloc(256 * 400);
  for (let i = 0; i < body.length; i++) body[i] = i % 256;
  return body;
}

function echo(req, res) {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
    res.end(body);
  });
}

const MESSAGE = 'x'.repeat(64);

/** asgi_ws.py's routes, the same messages, without Python. */
function websockets(server) {
  const routes = {
    '/echo': (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
    '/down': (ws) =>
      ws.on('message', (data) => {
        for (let i = Number(data.toString()); i > 0; i--) ws.send(MESSAGE);
      }),
    '/up': (ws) => {
      let count = 0;
      ws.on('message', (data, isBinary) => {
        if (!isBinary && data.length === 1 && data[0] === 0x3f) {
          ws.send(String(count));
          count = 0;
        } else count++;
      });
    },
    '/idle': () => {},
  };
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const route = routes[req.url];
    if (route) route(ws);
    else ws.close(1008);
  });
}

const HANDLERS = {
  hello: () => fixed(Buffer.from('Hello, world!'), 'text/plain'),
  big: () => fixed(bigBody(), 'application/octet-stream'),
  echo: () => echo,
  file: () => fixed(readFileSync(file), 'application/octet-stream'),
  ws: () => fixed(Buffer.from('Hello, world!'), 'text/plain'),
};

/** hello world on every HTTP/2 stream, with the headers the HTTP/1.1 handler sends. */
function http2Hello(tls) {
  const body = Buffer.from('Hello, world!');
  const head = { ':status': 200, 'content-type': 'text/plain', 'content-length': body.length };
  const server = createHttp2Server({ ...tls, allowHTTP1: true }, fixed(body, 'text/plain'));
  // A 'request' listener (for the HTTP/1.1 probes) makes Node answer every
  // HTTP/2 stream through its compatibility layer too, from a 'stream'
  // listener of its own: that one goes, so that streams take the cheapest path.
  server.removeAllListeners('stream');
  server.on('stream', (stream) => {
    stream.respond(head);
    stream.end(body);
  });
  return server;
}

if (!HANDLERS[mode]) throw new Error(`bare-node.mjs: unknown mode ${mode}`);
const { BARE_NODE_TLS_CERT: cert, BARE_NODE_TLS_KEY: key, BARE_NODE_HTTP2: http2 } = process.env;
const tls = cert && key ? { cert: readFileSync(cert), key: readFileSync(key) } : null;
if (http2 === '1' && (tls === null || mode !== 'hello')) throw new Error('bare-node.mjs: BARE_NODE_HTTP2 serves hello world over TLS only');
const server = http2 === '1' ? http2Hello(tls) : tls ? createHttpsServer(tls, HANDLERS[mode]()) : createServer(HANDLERS[mode]());
if (mode === 'ws') websockets(server);
server.listen(Number(port), host);
