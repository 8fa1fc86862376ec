/**
 * The corpus again, through a real nginx (proxy_pass over HTTP/1.1 with
 * upstream keep-alive), the way portico is deployed, each case whole, byte
 * by byte and in seeded random pieces. The statuses may differ from the
 * direct run, since nginx refuses some requests itself and re-frames
 * others; what must hold is that no ambiguous request reaches the
 * application: an invalid case is refused (by nginx, or by portico with its
 * status) and the app sees nothing of it, and a valid request sent right
 * after it on the same upstream connections still gets its own answer (no
 * desynchronisation between nginx and portico). A valid case must reach the
 * app with the environ the direct run expects, except for the keys a proxy
 * rewrites, which each case's data lists with their values through nginx
 * (viaNginxEnviron, written by generate-corpus.py).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { header, type RawResponse } from '../helpers/raw-response.js';
import { invalidCases, seededRandom, splitBytes, validCases, type SendMode } from './corpus.js';
import { ECHO_ID_HEADER, startCorpusServer, type EchoServer } from './conformance-server.js';
import { hasNginx, missingNginxPolicy, startNginx, type Nginx } from './nginx.js';
import { exchange } from './raw-exchange.js';

const PROBE = Buffer.from('GET /__probe__ HTTP/1.1\r\nHost: probe.example\r\n\r\n', 'latin1');
const MODES: SendMode[] = ['whole', 'bytewise', 'random'];

/** A refusal by nginx itself: any 4xx, or 501/505. A 502 or 504 would mean portico failed it as an upstream. */
function isNginxRefusal(status: number): boolean {
  return (status >= 400 && status < 500) || status === 501 || status === 505;
}

const missing = hasNginx() ? null : missingNginxPolicy();
if (missing !== null && missing.skip === false) {
  // On CI nginx must be there: a suite that skipped itself would pass having tested nothing.
  test('nginx is installed for the conformance corpus', () => assert.fail(missing.message));
}

describe('conformance corpus through nginx', { timeout: 150_000, skip: missing === null ? false : missing.skip || 'nginx is missing (failed above)' }, () => {
  let server: EchoServer;
  let nginx: Nginx;
  before(async () => {
    server = await startCorpusServer();
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
        // viaNginx 0: nginx answers in HTTP/0.9, with no status line at all.
        if (c.viaNginx !== 0 && result.wireProblem !== null) failures.push(`${c.name}: malformed response through nginx: ${result.wireProblem}`);
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
            if (!isNginxRefusal(response.status)) failures.push(`${c.name}: nginx answered ${response.status}`);
          } else if (response.status !== c.status && !(c.headReachesApp && response.status === 502)) {
            failures.push(`${c.name}: portico answered ${response.status} through nginx, want ${c.status}`);
          }
          if (!c.headReachesApp && seen.length > 0) failures.push(`${c.name}: the app saw ${JSON.stringify(seen)}`);
        }
        // A head that reaches the app is logged on arrival, which can come after the refusal.
        if (c.headReachesApp) await server.settle(before, 200);
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

    test(`valid requests reach the app through nginx (${mode})`, async () => {
      const random = seededRandom(9);
      const failures: string[] = [];
      for (const c of validCases()) {
        const before = server.seen().length;
        const result = await exchange(nginx.port, splitBytes(c.bytes, mode, random), (finals) => finals.length >= 1);
        const response = result.finals[0];
        const want = c.viaNginx ?? c.frontAnswers?.status ?? 200;
        if (result.wireProblem !== null || response?.status !== want) {
          failures.push(`${c.name}: ${response?.status} through nginx, want ${want} ${result.wireProblem ?? ''} ${result.received.toString('latin1').slice(0, 120)}`);
          continue;
        }
        // Refused by nginx, as its data says: nothing more to compare.
        if (c.viaNginx !== undefined) continue;
        if (c.frontAnswers !== undefined) {
          for (const name of c.frontAnswers.headers) if (header(response, name) === undefined) failures.push(`${c.name}: no ${name} header in portico's answer`);
          if (server.seen().length > before) failures.push(`${c.name}: the app saw ${JSON.stringify(server.seen().slice(before))}`);
          continue;
        }
        failures.push(...environFailures(c.name, response, { ...c.environ, ...c.viaNginxEnviron }, c.body));
      }
      assert.deepEqual(failures, []);
    });
  }
});

function environFailures(name: string, response: RawResponse, want: Record<string, string | null>, body: string | undefined): string[] {
  if (header(response, ECHO_ID_HEADER) === undefined) return [`${name}: the answer is not the app's: ${response.body.toString('latin1').slice(0, 100)}`];
  const environ = JSON.parse(response.body.toString('latin1')) as Record<string, string>;
  const failures: string[] = [];
  for (const [key, value] of Object.entries(want)) {
    if (value === null ? key in environ : environ[key] !== value) failures.push(`${name}: ${key} is ${JSON.stringify(environ[key])} through nginx, want ${JSON.stringify(value)}`);
  }
  if (body !== undefined && environ.body !== body) failures.push(`${name}: body ${JSON.stringify(environ.body)} through nginx, want ${JSON.stringify(body)}`);
  return failures;
}
