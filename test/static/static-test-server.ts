/**
 * What the static tests share: a copy of the fixture site in a temporary
 * directory, grown with what git should not carry (symlinks, a FIFO, odd
 * names, a file outside the root), and a real HTTP server on port 0 that
 * routes to the handler under test.
 *
 * The server has two doors:
 * - '/static/...' goes through the real MountTable, as in production;
 * - '/direct?p=<base64url>' hands the decoded bytes to the handler as
 *   PATH_INFO untouched, to prove the handler's own defences without the
 *   router's help.
 */
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { once } from 'node:events';
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { REPO_ROOT } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { MountTable } from '../../src/routing/mount-table.js';
import { RequestRecord, type RequestContext } from '../../src/http/request-record.js';
import type { MountHandler } from '../../src/routing/mount-handler.js';
import { ErrorLog } from '../../src/observability/error-log.js';

export const FIXTURE_SITE = join(REPO_ROOT, 'test', 'fixtures', 'static');
export const SECRET = 'outside-the-root-must-never-be-served';

export interface Site {
  /** The directory to serve. */
  root: string;
  /** A sibling of the root, holding secret.txt. */
  outside: string;
  remove(): void;
}

export function makeSite(): Site {
  const temp = makeTempDir('portico-static-');
  const root = join(temp.path, 'www');
  const outside = join(temp.path, 'outside');
  cpSync(FIXTURE_SITE, root, { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret.txt'), SECRET + '\n');
  mkdirSync(join(outside, 'dir'));
  writeFileSync(join(outside, 'dir', 'index.html'), SECRET + '\n');
  mkdirSync(join(root, '.git'));
  writeFileSync(join(root, '.git', 'config'), '[core]\n');
  mkdirSync(join(root, 'empty'));
  writeFileSync(join(root, 'big.bin'), Buffer.alloc(100 * 1024, 'abcdefghij'));
  writeFileSync(join(root, 'file10k.bin'), Buffer.alloc(10 * 1024, 'x'));
  writeFileSync(join(root, '%2e%2e'), 'a file literally named %2e%2e\n');
  writeFileSync(join(root, 'café.txt'), 'utf-8 name\n');
  // Symlinks that stay inside the root are served...
  symlinkSync('hello.txt', join(root, 'link-in.txt'));
  symlinkSync('docs', join(root, 'docs-link'));
  // ...and these, which lead out, never are.
  symlinkSync('../outside/secret.txt', join(root, 'link-out.txt'));
  symlinkSync(outside, join(root, 'dir-out'));
  symlinkSync('../outside/dir', join(root, 'index-out'));
  mkdirSync(join(root, 'trap'));
  symlinkSync('../../outside/secret.txt', join(root, 'trap', 'index.html'));
  execFileSync('mkfifo', [join(root, 'fifo')]);
  return { root, outside, remove: temp.remove };
}

/** An error log written to memory, at debug level. */
export function memoryLog(): { log: ErrorLog; text(): string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { log: new ErrorLog(stream, 'debug'), text: () => text };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  /** Names and values in wire order. */
  rawHeaders: string[];
  body: Buffer;
  text: string;
}

export interface TestServer {
  port: number;
  /** `target` is sent exactly as given: no URL parsing, no normalisation. */
  request(target: string, options?: { method?: string; headers?: OutgoingHttpHeaders }): Promise<Reply>;
  /** The handler with `pathInfo` as PATH_INFO, past the router. */
  direct(pathInfo: string, options?: { method?: string; headers?: OutgoingHttpHeaders }): Promise<Reply>;
  /** handler.bodyBytes(res) of each finished response, in order. */
  bodyBytes: number[];
  close(): Promise<void>;
}

export async function startServer(handler: MountHandler): Promise<TestServer> {
  const table = new MountTable([{ prefix: '/static', handler }]);
  const bodyBytes: number[] = [];
  const server = http.createServer((req, res) => {
    const context: RequestContext = {
      scheme: 'http',
      serverName: '127.0.0.1',
      serverPort: String(req.socket.localPort),
      remoteAddr: req.socket.remoteAddress ?? '',
      remotePort: String(req.socket.remotePort),
      forwardedHost: null,
    };
    const url = req.url ?? '/';
    if (url.startsWith('/direct?p=')) {
      const pathInfo = Buffer.from(url.slice('/direct?p='.length), 'base64url').toString('latin1');
      const request = new RequestRecord(req, res, context);
      res.on('finish', () => bodyBytes.push(request.bodyBytes));
      handler.handle(request, { scriptName: '/direct', pathInfo, query: '' });
      return;
    }
    const route = table.route(url);
    if (route.kind === 'mount') {
      const request = new RequestRecord(req, res, context);
      res.on('finish', () => bodyBytes.push(request.bodyBytes));
      route.mount.handler.handle(request, route.match);
    } else {
      res.writeHead(route.kind === 'bad-path' ? 400 : 404, { 'Content-Length': 0 });
      res.end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const request: TestServer['request'] = (target, options = {}) => send(port, target, options.method ?? 'GET', options.headers ?? {});
  return {
    port,
    request,
    bodyBytes,
    direct: (pathInfo, options) => request('/direct?p=' + Buffer.from(pathInfo, 'latin1').toString('base64url'), options),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

function send(port: number, path: string, method: string, headers: OutgoingHttpHeaders): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`${method} ${path}: no response within 5 s`)), 5_000);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

/** Response headers as [name, value] pairs in wire order, without Date (which moves with the clock). */
export function headersBesidesDate(reply: Reply): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < reply.rawHeaders.length; i += 2) {
    const name = reply.rawHeaders[i] as string;
    if (name.toLowerCase() !== 'date') pairs.push([name, reply.rawHeaders[i + 1] as string]);
  }
  return pairs;
}
