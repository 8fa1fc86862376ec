/**
 * src/cgi/request-body-spool.ts against a real HTTP server: a chunked body
 * held in memory or, past the bound, in a private file that goes away on
 * every path (disposed, over the limit, client gone), with the limit
 * counted as the body arrives.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync, statSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { CgiBodyTooLargeError } from '../../src/cgi/cgi-errors.js';
import { hasUndeclaredLength, RequestBodySpool, SPOOL_MEMORY_BYTES } from '../../src/cgi/request-body-spool.js';
import { eventually } from '../helpers/http-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** Small bounds, so that each path is met with small bodies. */
const MEMORY_BYTES = 1024;
const LIMIT = 64 * 1024;

interface Filled {
  outcome: 'spool' | 'gone' | 'error';
  length?: number;
  /** The spool's file as it was before dispose(); null for a body in memory. */
  path?: string | null;
  fileMode?: number;
  dirMode?: number;
  body?: string;
  error?: unknown;
}

describe('RequestBodySpool', { timeout: 30_000 }, () => {
  const temp = makeTempDir('portico-spool-test-');
  let server: http.Server;
  let port: number;
  /** One entry per request, in order, once the spool has settled. */
  let filled: Array<Promise<Filled>> = [];

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<Filled> {
    let spool: RequestBodySpool | null;
    try {
      spool = await RequestBodySpool.fill(req, res, { limit: LIMIT, memoryBytes: MEMORY_BYTES, tempRoot: temp.path });
    } catch (error) {
      req.resume();
      res.writeHead(error instanceof CgiBodyTooLargeError ? 413 : 500, { Connection: 'close' }).end();
      return { outcome: 'error', error };
    }
    if (spool === null) return { outcome: 'gone' };
    const path = spool.path;
    const result: Filled = { outcome: 'spool', length: spool.length, path };
    if (path !== null) {
      result.fileMode = statSync(path).mode & 0o777;
      result.dirMode = statSync(dirname(path)).mode & 0o777;
    }
    result.body = await text(spool.open());
    await spool.dispose();
    res.end(String(result.length));
    return result;
  }

  before(async () => {
    server = http.createServer((req, res) => filled.push(serve(req, res)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    temp.remove();
  });

  /** Sends `body` chunked (Node's client chunks a body without Content-Length), in pieces of 1000 bytes. */
  async function postChunked(body: string): Promise<{ status: number; filled: Filled }> {
    filled = [];
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? resolve(-1) : reject(error)));
      for (let i = 0; i < body.length; i += 1000) req.write(body.slice(i, i + 1000));
      req.end();
    });
    await eventually('the spool settled', () => (filled.length > 0 ? true : undefined), 5_000, 10);
    return { status, filled: await (filled[0] as Promise<Filled>) };
  }

  const leftOnDisk = (): string[] => readdirSync(temp.path);

  it('takes only a body without a declared length', () => {
    const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
    assert.equal(hasUndeclaredLength(req({ 'transfer-encoding': 'chunked' })), true);
    assert.equal(hasUndeclaredLength(req({ 'content-length': '5' })), false);
    assert.equal(hasUndeclaredLength(req({})), false);
    assert.equal(SPOOL_MEMORY_BYTES, 1024 * 1024);
  });

  it('holds a small body in memory, with no file made', async () => {
    const { status, filled } = await postChunked('hello, small body');
    assert.equal(status, 200);
    assert.equal(filled.outcome, 'spool');
    assert.equal(filled.path, null);
    assert.equal(filled.length, 17);
    assert.equal(filled.body, 'hello, small body');
    assert.deepEqual(leftOnDisk(), []);
  });

  it('holds a body of exactly the memory bound in memory', async () => {
    const { filled } = await postChunked('m'.repeat(MEMORY_BYTES));
    assert.equal(filled.path, null);
    assert.equal(filled.length, MEMORY_BYTES);
  });

  it('moves a larger body to a private file (0600 in a 0700 directory), removed with the spool', async () => {
    const body = Array.from({ length: 40 * 1024 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const { status, filled } = await postChunked(body);
    assert.equal(status, 200);
    assert.equal(filled.outcome, 'spool');
    assert.ok(typeof filled.path === 'string' && filled.path.startsWith(temp.path), `file at ${filled.path}`);
    assert.equal(filled.fileMode, 0o600);
    assert.equal(filled.dirMode, 0o700);
    assert.equal(filled.length, body.length);
    assert.equal(filled.body, body, 'the bytes come back in order, the memory part first');
    assert.deepEqual(leftOnDisk(), [], 'file and directory are gone after dispose()');
  });

  it('refuses a body over the limit as it arrives, leaving nothing on disk', async () => {
    const { status, filled } = await postChunked('x'.repeat(LIMIT + 1000));
    assert.ok(status === 413 || status === -1, `status ${status}`);
    assert.equal(filled.outcome, 'error');
    assert.ok(filled.error instanceof CgiBodyTooLargeError);
    assert.equal(filled.error.code, 'PORTICO_ERR_BODY_TOO_LARGE');
    assert.equal(filled.error.status, 413);
    assert.deepEqual(leftOnDisk(), []);
  });

  it('gives up when the client leaves mid-body, and removes the file', async () => {
    filled = [];
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    // Past the memory bound, so the file exists, then nothing more.
    socket.write(`1000\r\n${'a'.repeat(0x1000)}\r\n`);
    await eventually('the spool made its file', () => (leftOnDisk().length > 0 ? true : undefined), 5_000, 10);
    socket.destroy();
    await eventually('the spool settled', () => (filled.length > 0 ? true : undefined), 5_000, 10);
    assert.equal((await filled[0])?.outcome, 'gone');
    assert.deepEqual(leftOnDisk(), []);
  });

  it('gives up when the response is closed first (a body timeout answered it)', async () => {
    filled = [];
    const timeoutServer = http.createServer((req, res) => {
      filled.push(serve(req, res));
      setTimeout(() => res.writeHead(408, { Connection: 'close' }).end(), 100);
    });
    timeoutServer.listen(0, '127.0.0.1');
    await once(timeoutServer, 'listening');
    const socket = connect((timeoutServer.address() as AddressInfo).port, '127.0.0.1');
    try {
      socket.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
      socket.write(`800\r\n${'a'.repeat(0x800)}\r\n`); // on disk, and the body never ends
      await eventually('the spool settled', () => (filled.length > 0 ? true : undefined), 5_000, 10);
      assert.equal((await filled[0])?.outcome, 'gone');
      assert.deepEqual(leftOnDisk(), []);
    } finally {
      socket.destroy();
      timeoutServer.closeAllConnections();
      timeoutServer.close();
    }
  });
});
