/**
 * 200 MiB each way must stream through with a few MiB of buffering: we
 * sample the RSS of the portico process and of every worker during the
 * transfer and bound each peak.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { RssSampler, describePeaks, type RssPeak } from '../helpers/rss-sampler.js';
import { sleep } from '../helpers/http-client.js';

const MiB = 1024 * 1024;
const TOTAL = 200 * MiB;
/** Bound on the peak RSS of each process: a Node or Python baseline plus a few MiB of buffers, far below the 200 MiB moved. */
const PEAK_RSS_BOUND_MiB = 100;

function assertPeaksBounded(peaks: RssPeak[]): void {
  assert.ok(peaks.length >= 2, `sampled the front and at least one worker: ${describePeaks(peaks)}`);
  for (const peak of peaks) {
    assert.ok(peak.peakKiB / 1024 < PEAK_RSS_BOUND_MiB, `${peak.name}[${peak.pid}] peaked at ${(peak.peakKiB / 1024).toFixed(1)} MiB (bound ${PEAK_RSS_BOUND_MiB} MiB); all: ${describePeaks(peaks)}`);
  }
}

describe('streaming', { timeout: 300_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startPortico(fixtureApp('stream_app'));
  });
  after(async () => {
    await server?.stop();
  });

  it(`streams a 200 MiB upload with each process under ${PEAK_RSS_BOUND_MiB} MiB`, { timeout: 180_000 }, async (t) => {
    const pool = randomBytes(MiB);
    const block = 64 * 1024;
    const digest = createHash('sha256');
    const sampler = new RssSampler(server.pid).start(50);
    let peaks: RssPeak[] = [];
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request(`${server.url}/upload`, {
          method: 'POST',
          agent: false,
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(TOTAL) },
        });
        const timer = setTimeout(() => req.destroy(new Error('upload did not finish within 150 s')), 150_000);
        req.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c));
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, body: text });
          });
        });
        void (async () => {
          for (let sent = 0; sent < TOTAL; sent += block) {
            const offset = sent % MiB;
            const chunk = pool.subarray(offset, offset + block);
            digest.update(chunk);
            if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
            if (req.destroyed) return;
          }
          req.end();
        })();
      });
      peaks = sampler.stop();
      t.diagnostic(`peak RSS: ${describePeaks(peaks)}`);
      assert.equal(status, 200, body);
      const result = JSON.parse(body) as { length: number; sha256: string };
      assert.equal(result.length, TOTAL);
      assert.equal(result.sha256, digest.digest('hex'));
    } finally {
      if (peaks.length === 0) peaks = sampler.stop();
    }
    assertPeaksBounded(peaks);
  });

  it(`streams a 200 MiB download to a slow reader with each process under ${PEAK_RSS_BOUND_MiB} MiB`, { timeout: 180_000 }, async (t) => {
    const appBlock = Buffer.from(Array.from({ length: 256 * 256 }, (_, i) => i % 256));
    const blocks = TOTAL / appBlock.length;
    const expected = createHash('sha256');
    for (let i = 0; i < blocks; i++) expected.update(appBlock);
    const sampler = new RssSampler(server.pid).start(50);
    let peaks: RssPeak[] = [];
    try {
      const { status, length, sha256 } = await new Promise<{ status: number; length: number; sha256: string }>((resolve, reject) => {
        const req = http.get(`${server.url}/download?blocks=${blocks}`, { agent: false }, (res) => {
          const digest = createHash('sha256');
          let length = 0;
          // Read nothing for 2 s: the server must hold back, not buffer 200 MiB.
          res.pause();
          void sleep(2_000).then(() => res.resume());
          res.on('data', (chunk: Buffer) => {
            length += chunk.length;
            digest.update(chunk);
          });
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, length, sha256: digest.digest('hex') });
          });
          res.on('aborted', () => reject(new Error(`download aborted after ${length} bytes`)));
        });
        const timer = setTimeout(() => req.destroy(new Error('download did not finish within 150 s')), 150_000);
        req.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      });
      peaks = sampler.stop();
      t.diagnostic(`peak RSS: ${describePeaks(peaks)}`);
      assert.equal(status, 200);
      assert.equal(length, TOTAL);
      assert.equal(sha256, expected.digest('hex'));
    } finally {
      if (peaks.length === 0) peaks = sampler.stop();
    }
    assertPeaksBounded(peaks);
  });
});
