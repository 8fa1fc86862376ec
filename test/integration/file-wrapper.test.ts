/**
 * wsgi.file_wrapper: real files (offset and Content-Length honoured) and
 * file-like objects read in blocks.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
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

  /** What the fixture's pattern() writes: the big-endian u32 sequence 0, 1, 2... cut to size. */
  const pattern = (size: number): Buffer => {
    const data = Buffer.alloc(Math.ceil(size / 4) * 4);
    for (let i = 0; i < data.length / 4; i++) data.writeUInt32BE(i, i * 4);
    return data.subarray(0, size);
  };
  const tempUrl = (dir: string, query: string): string => `${server.url}/tempfile?dir=${encodeURIComponent(dir)}${query}`;

  it('serves a NamedTemporaryFile, which its close() deletes, whole', async () => {
    const dir = join(temp.path, 'named-temp');
    mkdirSync(dir);
    const size = 3 * 1024 * 1024 + 5; // past the response window: the worker waits for the client on the way
    const result = await httpRequest(tempUrl(dir, `&size=${size}`), { timeoutMs: 30_000 });
    assert.equal(result.status, 200);
    assert.equal(result.body.length, size);
    assert.ok(result.body.equals(pattern(size)), 'the bytes the app wrote');
    assert.deepEqual(readdirSync(dir), [], "the app's close() ran and removed its file");
    assert.doesNotMatch(server.logs(), /could not send the file/);
  });

  it('serves a NamedTemporaryFile from its offset, up to its Content-Length', async () => {
    const dir = join(temp.path, 'named-temp-range');
    mkdirSync(dir);
    const result = await httpRequest(tempUrl(dir, '&size=100000&offset=1001&length=50000'));
    assert.equal(result.status, 200);
    assert.equal(result.headers['content-length'], '50000');
    assert.ok(result.body.equals(pattern(100000).subarray(1001, 51001)));
    assert.deepEqual(readdirSync(dir), []);
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
