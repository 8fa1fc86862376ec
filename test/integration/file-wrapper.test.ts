/**
 * wsgi.file_wrapper: real files (offset and Content-Length honoured) and
 * file-like objects read in blocks.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('wsgi.file_wrapper', { timeout: 60_000 }, () => {
  const temp = makeTempDir();
  const smallPath = join(temp.path, 'small.bin');
  const bigPath = join(temp.path, 'big.bin');
  const readLog = join(temp.path, 'reads.log');
  const small = randomBytes(1024 * 1024 + 123);
  let server: Portico;

  before(async () => {
    writeFileSync(smallPath, small);
    writeFileSync(bigPath, randomBytes(32 * 1024 * 1024));
    const { app, args } = fixtureApp('file_wrapper_app');
    server = await startPortico({ app, args: [...args, '-e', `READ_LOG=${readLog}`] });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  const fileUrl = (query: string): string => `${server.url}/file?path=${encodeURIComponent(smallPath)}${query}`;

  it('serves a real file whole', async () => {
    const result = await httpRequest(fileUrl(''));
    assert.equal(result.status, 200);
    assert.deepEqual(result.body, small);
  });

  it('serves from where the app seeked to', async () => {
    const result = await httpRequest(fileUrl('&offset=1000'));
    assert.equal(result.status, 200);
    assert.equal(result.body.length, small.length - 1000);
    assert.deepEqual(result.body, small.subarray(1000));
  });

  it("stops at the app's Content-Length", async () => {
    const result = await httpRequest(fileUrl('&offset=1000&length=5000'));
    assert.equal(result.status, 200);
    assert.equal(result.headers['content-length'], '5000');
    assert.deepEqual(result.body, small.subarray(1000, 6000));
  });

  it('serves a 32 MiB file intact', async () => {
    const result = await httpRequest(`${server.url}/file?path=${encodeURIComponent(bigPath)}`, { timeoutMs: 30_000 });
    assert.equal(result.status, 200);
    const expected = createHash('sha256').update(readFileSync(bigPath)).digest('hex');
    assert.equal(createHash('sha256').update(result.body).digest('hex'), expected);
  });

  it('reads a file-like object (BytesIO) in blocks, then closes it', async () => {
    const size = 100_000;
    const result = await httpRequest(`${server.url}/bytesio?size=${size}&block=4096`);
    assert.equal(result.status, 200);
    const expected = Buffer.from(Array.from({ length: size }, (_, i) => (i * 7) % 256));
    assert.deepEqual(result.body, expected);
    const lines = await eventually('the BytesIO was closed', () => {
      const text = readFileSync(readLog, 'utf8');
      return text.includes('close') ? text.trim().split('\n') : undefined;
    }, 5_000);
    const reads = lines.filter((l) => l.startsWith('read '));
    assert.ok(reads.length >= 2, `read in blocks, got ${reads.length} read call(s)`);
    for (const read of reads) {
      const n = Number(read.slice(5));
      assert.ok(Number.isInteger(n) && n > 0, `every read asks for a block size, got "${read}"`);
    }
  });
});
