/**
 * The known HTTP/2 denial-of-service attacks (RFC 9113 §10.5), each sent
 * frame by frame with Debian's python3-h2 (test/fixtures/http2/h2_attack.py)
 * against portico over TLS, and each followed by an ordinary request on a
 * new connection, which must still be served: an attack costs its own
 * connection, never anyone else's.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startHttps } from '../helpers/https-client.js';
import { FIXTURE_APPS, REPO_ROOT, SYSTEM_PYTHON } from '../helpers/paths.js';
import type { Portico } from '../helpers/portico.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';

const run = promisify(execFile);
const ATTACK_CLIENT = join(REPO_ROOT, 'test', 'fixtures', 'http2', 'h2_attack.py');

/** RFC 9113 §7. */
const PROTOCOL_ERROR = 0x1;
const INTERNAL_ERROR = 0x2;
const CANCEL = 0x8;
const ENHANCE_YOUR_CALM = 0xb;

interface AttackResult {
  sent: number;
  closed: boolean;
  goaway: number | null;
  resets: Record<string, number>;
  responses: number;
  status: number | null;
  data_bytes: number;
  seconds: number;
}

describe('HTTP/2 attacks', { timeout: 120_000 }, () => {
  let pki: TestPki;
  let server: Portico;

  const attack = async (name: string, extra: string[] = []): Promise<AttackResult> => {
    const { stdout } = await run(SYSTEM_PYTHON, [ATTACK_CLIENT, '127.0.0.1', String(server.port), name, '--seconds', '10', ...extra], { timeout: 30_000 });
    return JSON.parse(stdout) as AttackResult;
  };

  /** An ordinary GET on a connection of its own still gets its answer. */
  const othersServed = async (): Promise<void> => {
    const control = await attack('get', ['--path', '/stream/download?blocks=1']);
    assert.equal(control.status, 200, JSON.stringify(control));
    assert.equal(control.data_bytes, 65536);
  };

  before(async () => {
    pki = makeTestPki();
    server = await startHttps({
      app: 'hello_app:application',
      args: [
        '--certfile', pki.server.chain, '--keyfile', pki.server.key,
        '--python', SYSTEM_PYTHON, '--pythonpath', FIXTURE_APPS, '-w', '2',
        '--mount', '/stream=stream_app:application',
        // The stall bound: a response that cannot leave for this long is reset.
        '--body-timeout', '1',
      ],
    });
  });

  after(async () => {
    await server?.stop();
    pki?.remove();
  });

  it('rapid reset (CVE-2023-44487): past --http2-max-concurrent-streams resets a second, GOAWAY ENHANCE_YOUR_CALM and the cut', async () => {
    const result = await attack('rapid-reset', ['--count', '5000']);
    assert.equal(result.goaway, ENHANCE_YOUR_CALM, JSON.stringify(result));
    assert.equal(result.closed, true);
    assert.ok(result.sent < 1000, `cut after ${result.sent} streams, well before the attacker's 5000`);
    await server.waitForLog(/refused connection: closed PORTICO_ERR_HTTP2_RAPID_RESET: HTTP\/2 connection cut: more than 100 streams reset by the client within a second/);
    await othersServed();
  });

  it('CONTINUATION flood (CVE-2024-27316): a header block that never ends is cut early', async () => {
    const result = await attack('continuation', ['--count', '100000']);
    assert.ok(result.goaway !== null || result.closed, JSON.stringify(result));
    assert.ok(result.sent < 1000, `cut after ${result.sent} CONTINUATION frames`);
    assert.equal(result.responses, 0);
    await server.waitForLog(/PORTICO_ERR_HTTP2_SESSION: HTTP\/2 connection cut: Too many CONTINUATION frames/);
    await othersServed();
  });

  it('HPACK bomb: a header list past --http2-max-header-list-size after decoding resets its stream, and the connection serves on', async () => {
    // 6 MB decoded from some 5 KB on the wire.
    const result = await attack('hpack-bomb', ['--count', '2000', '--path', '/stream/download?blocks=1']);
    // Node answers a header list past the limit with RST_STREAM(ENHANCE_YOUR_CALM) and fails nghttp2's header
    // callback, on which nghttp2 queues its own RST_STREAM(INTERNAL_ERROR): which reaches the client first varies.
    assert.ok([ENHANCE_YOUR_CALM, INTERNAL_ERROR].includes(result.resets['3'] ?? -1), JSON.stringify(result));
    assert.equal(result.status, 200, 'the stream before the bomb is answered');
    assert.equal(result.goaway, null);
    await othersServed();
  });

  it('SETTINGS flood: a client that never reads its ACKs is cut', async () => {
    const result = await attack('settings-flood', ['--count', '2000000']);
    assert.equal(result.closed, true, JSON.stringify(result));
    assert.ok(result.seconds < 10);
    await server.waitForLog(/PORTICO_ERR_HTTP2_SESSION: HTTP\/2 connection cut: Flooding was detected/);
    await othersServed();
  });

  it('PING flood: a client that never reads its ACKs is cut', async () => {
    const result = await attack('ping-flood', ['--count', '2000000']);
    assert.equal(result.closed, true, JSON.stringify(result));
    assert.ok(result.seconds < 10);
    await othersServed();
  });

  it('zero-window stall: a stream whose response cannot leave is reset (CANCEL) after the stall bound, and its worker freed', async () => {
    const result = await attack('zero-window', ['--path', '/stream/download?blocks=100']);
    assert.equal(result.status, 200, 'HEADERS need no window');
    assert.equal(result.data_bytes, 0);
    assert.equal(result.resets['1'], CANCEL, JSON.stringify(result));
    assert.ok(result.seconds >= 0.9 && result.seconds < 5, `reset after ${result.seconds} s`);
    assert.equal(result.closed, false, 'the stream is reset, not the connection');
    await server.waitForLog(/PORTICO_ERR_HTTP2_STALL: HTTP\/2 stream reset: \d+ response bytes could not be sent for 1000 ms/);
    // Both workers serve again: two downloads at once.
    await Promise.all([othersServed(), othersServed()]);
  });

  it('a malformed request (connection-specific field) resets its stream with PROTOCOL_ERROR', async () => {
    const result = await attack('conn-header');
    assert.equal(result.resets['1'], PROTOCOL_ERROR, JSON.stringify(result));
    await othersServed();
  });
});
