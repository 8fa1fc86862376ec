/**
 * Two real WebSocket clients against one portico serving Starlette
 * (issue #14): Debian's python3-websockets, which offers permessage-deflate
 * by default, run as a small script (test/fixtures/websocket/py_client.py);
 * and Node's `ws` with permessage-deflate on, so that compressed messages
 * go both ways through the front.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SYSTEM_PYTHON } from '../helpers/paths.js';
import { baseEnv, type Portico } from '../helpers/portico.js';
import { startWs, WS_FIXTURES } from '../helpers/websocket-fixtures.js';
import { closeAll, WsClient, wsUrl } from '../helpers/websocket-client.js';

/** Runs py_client.py against `base`, killing it (by pid) if it outlives `timeoutMs`. */
async function runPythonClient(base: string, timeoutMs = 40_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(SYSTEM_PYTHON, [join(WS_FIXTURES, 'py_client.py'), base], { env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    const [code] = (await once(child, 'exit')) as [number | null];
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

describe('WebSocket clients against Starlette', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startWs('starlette_ws:app');
  });
  after(async () => {
    closeAll();
    await server?.stop();
  });

  it("python3-websockets: compressed echo, 1 MiB, ping, subprotocol, 4001 with its reason, and the 403 denial", async () => {
    const run = await runPythonClient(wsUrl(server.url, ''));
    assert.equal(run.code, 0, `py_client.py failed:\n${run.stderr}\nportico:\n${server.logs()}`);
    const seen = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(seen, {
      extensions: ['PerMessageDeflate'],
      text: 'h\u00e9llo from python',
      binary: [0, 1, 0xfe, 0xff],
      big_ok: true,
      pong: true,
      subprotocol: 'chat.v2',
      subprotocol_said: 'chat.v2',
      close: [4001, 'bye now'],
      deny: 403,
    });
  });

  it("Node's ws with permessage-deflate: negotiated, and compressible and random messages echo whole", async () => {
    const client = await WsClient.open(wsUrl(server.url, '/echo'), [], { perMessageDeflate: { threshold: 0 } });
    assert.match(client.ws.extensions, /^permessage-deflate/);
    const compressible = 'abcabcabc '.repeat(100_000);
    assert.equal((await client.roundTrip(compressible, 20_000)).data.toString('utf8'), compressible);
    const random = randomBytes(512 * 1024);
    assert.deepEqual((await client.roundTrip(random, 20_000)).data, random);
    client.close(1000, 'bye');
    assert.equal((await client.closedWithin(5_000)).code, 1000);
  });

  it("Node's ws and python3-websockets at once on one worker", async () => {
    const node = await WsClient.open(wsUrl(server.url, '/echo'));
    const python = runPythonClient(wsUrl(server.url, ''));
    for (let i = 0; i < 50; i++) assert.equal((await node.roundTrip(`n${i}`)).data.toString(), `n${i}`);
    assert.equal((await python).code, 0);
    node.close();
  });
});
