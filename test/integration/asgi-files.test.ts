/**
 * Files from ASGI applications: Debian's Starlette 0.26 FileResponse, and
 * the pathsend extension (http.response.pathsend), through which the front
 * reads and sends the file itself.
 *
 * Starlette 0.26 predates pathsend (which Starlette took up in 0.36): its
 * FileResponse reads the file in the worker and sends it as
 * http.response.body chunks even where the server offers pathsend, and it
 * answers no Range request (ranges came in 0.39). So pathsend is tested with
 * a raw ASGI application, and Starlette for byte-exact content, HEAD, and a
 * Range header it ignores. Whether a worker read the file is seen in its
 * /proc/PID/io `rchar`, the bytes its read calls returned.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startAsgi } from '../helpers/asgi-fixtures.js';
import type { Portico } from '../helpers/portico.js';
import { httpRequest } from '../helpers/http-client.js';
import { RawConnection, rawRequest } from '../helpers/raw-connection.js';
import { header } from '../helpers/raw-response.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** Bytes the process's read calls returned so far (proc(5), /proc/PID/io). */
function readChars(pid: number): number {
  const match = /^rchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
  assert.ok(match !== null, `rchar of ${pid}`);
  return Number(match[1]);
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe('files from ASGI applications', { timeout: 60_000 }, () => {
  const temp = makeTempDir('portico-asgi-files-');
  const bigPath = join(temp.path, 'big.bin');
  const big = randomBytes(8 * 1024 * 1024 + 17);
  let raw: Portico;
  let starlette: Portico;
  let rawPid: number;
  let starlettePid: number;

  before(async () => {
    writeFileSync(bigPath, big);
    [raw, starlette] = await Promise.all([startAsgi('raw_app:app'), startAsgi('starlette_app:app')]);
    rawPid = Number((await httpRequest(`${raw.url}/pid`)).text);
    starlettePid = Number((await httpRequest(`${starlette.url}/pid`)).text);
  });
  after(async () => {
    await Promise.all([raw?.stop(), starlette?.stop()]);
    temp.remove();
  });

  describe('pathsend, from a raw ASGI application', () => {
    it('sends the file byte for byte, and the worker never reads it', async () => {
      const before = readChars(rawPid);
      const result = await httpRequest(`${raw.url}/pathsend?path=${encodeURIComponent(bigPath)}`, { timeoutMs: 30_000 });
      const read = readChars(rawPid) - before;
      assert.equal(result.status, 200, result.text.slice(0, 200));
      assert.equal(result.headers['content-length'], String(big.length));
      assert.equal(result.body.length, big.length);
      assert.equal(sha256(result.body), sha256(big));
      assert.ok(read < big.length / 16, `the worker read ${read} bytes for an ${big.length}-byte file: the body went through Python`);
    });

    it('answers HEAD with the length and no body, and the connection serves on', async () => {
      const conn = await RawConnection.open(raw.port);
      try {
        const target = `/pathsend?path=${encodeURIComponent(bigPath)}`;
        conn.write(rawRequest('HEAD', target) + rawRequest('GET', '/hello'));
        const [head, next] = await conn.readResponses(2, 10_000, (i) => i === 0);
        assert.equal(head?.status, 200);
        assert.equal(header(head, 'content-length'), String(big.length));
        assert.equal(head.body.length, 0);
        assert.equal(next?.body.toString(), 'hello from ASGI');
      } finally {
        conn.destroy();
      }
    });
  });

  describe("Debian's Starlette 0.26 FileResponse", () => {
    it('sends the file byte for byte, through the worker (it predates pathsend)', async () => {
      const before = readChars(starlettePid);
      const result = await httpRequest(`${starlette.url}/file?path=${encodeURIComponent(bigPath)}`, { timeoutMs: 30_000 });
      const read = readChars(starlettePid) - before;
      assert.equal(result.status, 200);
      assert.equal(result.headers['content-length'], String(big.length));
      assert.equal(sha256(result.body), sha256(big));
      assert.ok(read >= big.length, `the worker read ${read} bytes: Starlette 0.26 reads the file itself`);
    });

    it('answers HEAD with the length and no body', async () => {
      const result = await httpRequest(`${starlette.url}/file?path=${encodeURIComponent(bigPath)}`, { method: 'HEAD' });
      assert.equal(result.status, 200);
      assert.equal(result.headers['content-length'], String(big.length));
      assert.equal(result.body.length, 0);
    });

    it('ignores a Range request, which 0.26 does not support: the whole file, 200', async () => {
      const result = await httpRequest(`${starlette.url}/file?path=${encodeURIComponent(bigPath)}`, {
        headers: { Range: 'bytes=100-199' },
        timeoutMs: 30_000,
      });
      assert.equal(result.status, 200);
      assert.equal(result.headers['accept-ranges'], undefined);
      assert.equal(sha256(result.body), sha256(big));
    });
  });
});
