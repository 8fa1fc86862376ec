/**
 * The corpus again, through a real nginx (proxy_pass over HTTP/1.1 with
 * upstream keep-alive), the way portico is deployed. The statuses may
 * differ from the direct run, since nginx refuses some requests itself and
 * re-frames others; what must hold is that no ambiguous request reaches the
 * application: an invalid case is refused (by nginx with 400, or by portico
 * with its status) and the app sees nothing of it, and a valid request sent
 * right after it on the same upstream connections still gets its own
 * answer (no desynchronisation between nginx and portico).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { header } from '../helpers/raw-response.js';
import { invalidCases, seededRandom, splitBytes, validCases, type SendMode } from './corpus.js';
import { startEchoServer, type EchoServer } from './conformance-server.js';
import { hasNginx, startNginx, type Nginx } from './nginx.js';
import { exchange } from './raw-exchange.js';

const PROBE = Buffer.from('GET /__probe__ HTTP/1.1\r\nHost: probe.example\r\n\r\n', 'latin1');
const MODES: SendMode[] = ['whole', 'random'];

describe('conformance corpus through nginx', { timeout: 120_000, skip: hasNginx() ? false : 'nginx is not installed' }, () => {
  let server: EchoServer;
  let nginx: Nginx;
  before(async () => {
    server = await startEchoServer();
    nginx = await startNginx(server.portico.port);
  });
  after(async () => {
    await nginx?.stop();
    await server?.stop();
  });

  for (const mode of MODES) {
    test(`no invalid request reaches the app (${mode})`, async (t) => {
      const random = seededRandom(7);
      const failures: string[] = [];
      const byNginx: string[] = [];
      const normalized: string[] = [];
      for (const c of invalidCases()) {
        const before = server.seen().length;
        const result = await exchange(nginx.port, splitBytes(c.bytes, mode, random), (finals) => finals.length >= 1);
        const response = result.finals[0];
        const seen = server.seen().slice(before);
        // nginx's own error pages are HTML; portico's are one line of text.
        const fromNginx = response !== undefined && (header(response, 'content-type') ?? '').startsWith('text/html');
        if (c.viaNginx !== undefined) {
          // nginx took it and forwarded its own well-formed version: one request, nothing behind it.
          normalized.push(c.name);
          const status = response?.status ?? 0;
          if (status !== c.viaNginx) failures.push(`${c.name}: ${status} through nginx, want ${c.viaNginx} (nginx normalizes it)`);
          if (seen.length > 1) failures.push(`${c.name}: the app saw ${JSON.stringify(seen)}`);
        } else {
          if (response === undefined) {
            // nginx may drop a connection it cannot parse at all; that is a refusal too.
            if (!result.closed) failures.push(`${c.name}: no response and the connection left open`);
          } else if (fromNginx) {
            byNginx.push(`${c.name}:${response.status}`);
            if (![400, 405, 501, 505].includes(response.status)) failures.push(`${c.name}: nginx answered ${response.status}`);
          } else if (response.status !== c.status && !(c.headReachesApp && response.status === 502)) {
            failures.push(`${c.name}: portico answered ${response.status} through nginx, want ${c.status}`);
          }
          if (!c.headReachesApp && seen.length > 0) failures.push(`${c.name}: the app saw ${JSON.stringify(seen)}`);
        }
        if (c.headReachesApp) await server.settle(before);
        // The upstream connections must still be in step.
        const probe = await exchange(nginx.port, [PROBE], (finals) => finals.length >= 1);
        const body = probe.finals[0]?.body.toString('latin1') ?? '';
        if (probe.finals[0]?.status !== 200 || !body.includes('"PATH_INFO": "/__probe__"')) failures.push(`${c.name}: the next request got ${probe.finals[0]?.status} ${body.slice(0, 100)}`);
      }
      assert.deepEqual(failures, []);
      // For the record: which cases nginx refused itself.
      t.diagnostic(`refused by nginx: ${byNginx.join(' ')}`);
      t.diagnostic(`accepted and re-framed by nginx: ${normalized.join(' ')}`);
    });

    test(`valid requests pass through nginx (${mode})`, async () => {
      const random = seededRandom(9);
      const failures: string[] = [];
      for (const c of validCases()) {
        const result = await exchange(nginx.port, splitBytes(c.bytes, mode, random), (finals) => finals.length >= 1);
        const status = result.finals[0]?.status;
        if (status !== (c.viaNginx ?? 200)) failures.push(`${c.name}: ${status} ${result.received.toString('latin1').slice(0, 120)}`);
      }
      assert.deepEqual(failures, []);
    });
  }
});
