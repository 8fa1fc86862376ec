/**
 * The front's heap ballast (src/heap-ballast.ts): under a load of large
 * responses, a front without one fell into back-to-back full collections.
 * Counted, not timed: the front's own prom-client GC metrics say how many
 * full (major) collections serving the load took.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { fixtureApp, startPortico } from '../helpers/portico.js';
import { httpRequest } from '../helpers/http-client.js';

const CONTROL_LINE = /control listener on (http:\/\/[^\s,:]+:\d+)/;
const RESPONSES = 2_000;
const CONNECTIONS = 8;
/** 2 blocks of 64 KiB: every response a frame that straddles the front's reads. */
const TARGET = '/download?blocks=2';

async function majorCollections(control: string): Promise<number> {
  const text = (await httpRequest(`${control}/metrics`)).text;
  const major = /^nodejs_gc_duration_seconds_count\{kind="major"\} (\d+)$/m.exec(text);
  return major === null ? 0 : Number(major[1]);
}

/** Fetches `count` responses over `connections` keep-alive connections, each read to its end. */
async function load(url: string, count: number, connections: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  let bytes = 0;
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      http
        .get(url, { agent }, (res) => {
          res.on('data', (chunk: Buffer) => (bytes += chunk.length));
          res.on('end', resolve);
          res.on('error', reject);
        })
        .on('error', reject);
    });
  const lane = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      await one();
    }
  };
  try {
    await Promise.all(Array.from({ length: connections }, lane));
  } finally {
    agent.destroy();
  }
  return bytes;
}

describe('the front under large responses', { timeout: 60_000 }, () => {
  it('serves 2,000 responses of 128 KiB with a handful of full collections, not one every few dozen responses', async () => {
    const { app, args } = fixtureApp('stream_app');
    const server = await startPortico({ app, args: [...args, '-w', '1', '--control-bind', '127.0.0.1:0'] });
    try {
      const control = (CONTROL_LINE.exec(server.logs()) as RegExpExecArray)[1] as string;
      await load(`${server.url}${TARGET}`, 50, CONNECTIONS);
      const before = await majorCollections(control);
      const bytes = await load(`${server.url}${TARGET}`, RESPONSES, CONNECTIONS);
      assert.equal(bytes, RESPONSES * 2 * 64 * 1024);
      const during = (await majorCollections(control)) - before;
      // Without the ballast this load took dozens (one every 30 to 60
      // responses); with it, none or a few.
      assert.ok(during <= 8, `${during} full collections for ${RESPONSES} responses`);
    } finally {
      await server.stop();
    }
  });
});
