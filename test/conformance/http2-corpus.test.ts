/**
 * The HTTP/1.1 corpus replayed over HTTP/2 (#16), wherever a case has an
 * HTTP/2 counterpart (h2_replay.py translates each and says why it skips
 * the rest: HTTP/1.1 framing, target forms HTTP/2 does not carry,
 * connection-specific fields). A valid case must reach the echo app with
 * the environ the corpus expects, but for what HTTP/2 over TLS changes
 * (SERVER_PROTOCOL, the scheme and its default port); an invalid one must
 * be refused: with the corpus's status, or with RST_STREAM PROTOCOL_ERROR,
 * which is how RFC 9113 §8.1.1 treats a malformed request and how nghttp2
 * refuses what it checks itself. Where HTTP/2 differs by design, the case
 * is named below with the reason. Then a seeded fuzz run (h2_fuzz.py) of
 * mutated requests: each is answered or reset, none with a 5xx, and the
 * server answers a plain request throughout.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startHttps } from '../helpers/https-client.js';
import { REPO_ROOT, SYSTEM_PYTHON } from '../helpers/paths.js';
import type { Portico } from '../helpers/portico.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';
import { CONFORMANCE_APPS, corpusLimitArgs, invalidCases, validCases } from './corpus.js';

const run = promisify(execFile);
const REPLAY = join(REPO_ROOT, 'test', 'conformance', 'h2_replay.py');
const FUZZ = join(REPO_ROOT, 'test', 'conformance', 'h2_fuzz.py');
const PROTOCOL_ERROR = 1;

type Replayed = { name: string; skipped: string } | { name: string; status: number; reset: number | null; body: string };

/**
 * Invalid on HTTP/1.1, and on HTTP/2 a field nghttp2 drops rather than
 * refuses (it ignores a field whose value has a control character, RFC
 * 9113 §8.2.1, unless told otherwise, and Node does not tell it): the
 * request is served without the field, which never reaches the app.
 */
const FIELD_DROPPED: Record<string, string> = {
  '017-cl-vtab': 'CONTENT_LENGTH',
  '018-cl-nul': 'CONTENT_LENGTH',
  '059-nul-in-value': 'HTTP_X_A',
  '060-ctl-in-value': 'HTTP_X_A',
  '061-del-in-value': 'HTTP_X_A',
};

/** Invalid on HTTP/1.1 only because llhttp knows a fixed table of methods; on HTTP/2 'get' is an extension method like any token. */
const EXTENSION_METHOD = '099-method-lowercase';

/** Valid on HTTP/1.1; on HTTP/2 an empty Host is malformed (RFC 9113 §8.3.1: the authority of an https URI is not empty), and nghttp2 resets it. */
const EMPTY_HOST = '020-host-empty';

describe('conformance corpus over HTTP/2', { timeout: 120_000 }, () => {
  let pki: TestPki;
  let server: Portico;

  const replay = async (kind: 'valid' | 'invalid'): Promise<Replayed[]> => {
    const { stdout } = await run(SYSTEM_PYTHON, [REPLAY, '127.0.0.1', String(server.port), kind], { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 });
    return stdout.trim().split('\n').map((line) => JSON.parse(line) as Replayed);
  };

  before(async () => {
    pki = makeTestPki();
    server = await startHttps({
      app: 'conformance_echo:application',
      args: ['--certfile', pki.server.chain, '--keyfile', pki.server.key, '--pythonpath', CONFORMANCE_APPS, '--forwarded-allow-ips=', ...corpusLimitArgs()],
    });
  });

  after(async () => {
    await server?.stop();
    pki?.remove();
  });

  test('valid requests reach the app with the environ HTTP/1.1 gives, but for the protocol and the scheme', async () => {
    const replayed = await replay('valid');
    const failures: string[] = [];
    let ran = 0;
    for (const c of validCases()) {
      const result = replayed.find((r) => r.name === c.name);
      if (result === undefined) {
        failures.push(`${c.name}: not replayed`);
        continue;
      }
      if ('skipped' in result) continue;
      ran++;
      if (c.name === EMPTY_HOST) {
        if (result.reset !== PROTOCOL_ERROR) failures.push(`${c.name}: ${result.status} ${result.reset}, want a reset`);
        continue;
      }
      const status = c.frontAnswers?.status ?? 200;
      if (result.status !== status) {
        failures.push(`${c.name}: status ${result.status} (reset ${result.reset}), want ${status}: ${result.body.slice(0, 120)}`);
        continue;
      }
      if (c.frontAnswers !== undefined) continue;
      const environ = JSON.parse(result.body) as Record<string, string>;
      const want: Record<string, string | null> = { ...c.environ };
      if (want.SERVER_PROTOCOL !== undefined) want.SERVER_PROTOCOL = 'HTTP/2';
      if (want['wsgi.url_scheme'] === 'http') want['wsgi.url_scheme'] = 'https';
      if (want.SERVER_PORT === '80') want.SERVER_PORT = '443';
      for (const [key, value] of Object.entries(want)) {
        if (value === null ? key in environ : environ[key] !== value) failures.push(`${c.name}: ${key} is ${JSON.stringify(environ[key])}, want ${JSON.stringify(value)}`);
      }
      if (c.body !== undefined && environ.body !== c.body) failures.push(`${c.name}: body ${JSON.stringify(environ.body)}, want ${JSON.stringify(c.body)}`);
    }
    assert.deepEqual(failures, []);
    assert.ok(ran >= 45, `${ran} valid cases have an HTTP/2 counterpart`);
  });

  test('invalid requests are refused: the corpus status, or RST_STREAM PROTOCOL_ERROR for a malformed one', async () => {
    const replayed = await replay('invalid');
    const failures: string[] = [];
    const byStatus: string[] = [];
    let ran = 0;
    for (const c of invalidCases()) {
      const result = replayed.find((r) => r.name === c.name);
      if (result === undefined) {
        failures.push(`${c.name}: not replayed`);
        continue;
      }
      if ('skipped' in result) continue;
      ran++;
      const dropped = FIELD_DROPPED[c.name];
      if (dropped !== undefined || c.name === EXTENSION_METHOD) {
        if (result.status !== 200) {
          failures.push(`${c.name}: status ${result.status}, want 200 (see FIELD_DROPPED, EXTENSION_METHOD)`);
          continue;
        }
        const environ = JSON.parse(result.body) as Record<string, string>;
        if (dropped !== undefined && dropped in environ) failures.push(`${c.name}: ${dropped} reached the app as ${JSON.stringify(environ[dropped])}`);
        if (c.name === EXTENSION_METHOD && environ.REQUEST_METHOD !== 'get') failures.push(`${c.name}: REQUEST_METHOD ${environ.REQUEST_METHOD}`);
        continue;
      }
      if (result.status === c.status) byStatus.push(c.name);
      else if (!(result.status === 0 && result.reset === PROTOCOL_ERROR)) {
        failures.push(`${c.name}: status ${result.status} (reset ${result.reset}), want ${c.status} or a PROTOCOL_ERROR reset`);
      }
    }
    assert.deepEqual(failures, []);
    assert.ok(ran >= 40, `${ran} invalid cases have an HTTP/2 counterpart`);
    // The front's own checks answer over HTTP/2 as over HTTP/1.1: the limits, two Content-Types, forbidden trailers.
    for (const name of ['102-limit-request-line-over', '104-limit-request-fields-over', '106-limit-request-field-size-over', '108-limit-request-body-over', '110-limit-request-body-chunked-over', '113-two-content-types', '116-trailer-content-length', '118-trailer-authorization', '087-target-high-byte']) {
      assert.ok(byStatus.includes(name), `${name} is answered with the corpus's status`);
    }
  });

  test('a fuzz run of mutated requests: each answered 2xx or 4xx, or reset, and the server alive throughout', async () => {
    const { stdout } = await run(SYSTEM_PYTHON, [FUZZ, '127.0.0.1', String(server.port), '16', '300'], { timeout: 60_000 });
    const result = JSON.parse(stdout) as { outcomes: Record<string, number>; server_errors: unknown[]; liveness_failures: number[]; alive_at_end: boolean };
    assert.deepEqual(result.server_errors, [], 'no mutation gets a 5xx');
    assert.deepEqual(result.liveness_failures, []);
    assert.equal(result.alive_at_end, true);
    assert.equal(result.outcomes.timeout, undefined, JSON.stringify(result.outcomes));
    // A run that refused nothing, or served nothing, would prove nothing.
    assert.ok((result.outcomes['200'] ?? 0) > 0 && (result.outcomes['400'] ?? 0) > 0 && (result.outcomes.reset ?? 0) > 0, JSON.stringify(result.outcomes));
  });
});
