/**
 * A worker that dies mid-request (os._exit, SIGSEGV, kill -9): that request
 * gets 502, the worker is replaced, and a request on the other worker is
 * not disturbed. Two workers throughout.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { exchangeRaw, rawRequest } from '../helpers/raw-connection.js';
import { parseResponses } from '../helpers/raw-response.js';
import { isReaped } from '../helpers/proc.js';

describe('worker crashes', { timeout: 120_000 }, () => {
  let server: Portico;
  before(async () => {
    const { app, args } = fixtureApp('crash_app');
    server = await startPortico({ app, args: [...args, '-w', '2'] });
  });
  after(async () => {
    await server?.stop();
  });

  /** The pids of both workers: two overlapping slow requests land on different idle workers. */
  async function workerPids(): Promise<Set<number>> {
    return eventually('two workers answer', async () => {
      const answers = await Promise.all([0, 1].map(() => httpRequest(`${server.url}/sleep?s=0.4`)));
      const pids = new Set(answers.filter((a) => a.status === 200).map((a) => Number(a.text)));
      return pids.size === 2 ? pids : undefined;
    }, 15_000, 200);
  }

  /** After a crash: the dead worker is reaped and a new one serves beside the survivor. */
  async function expectReplaced(before: Set<number>, crashedPid?: number): Promise<void> {
    const dead = crashedPid ?? (await eventually('one worker gone', () => {
      const gone = [...before].filter(isReaped);
      return gone.length === 1 ? gone[0] : undefined;
    }, 5_000));
    await eventually(`worker ${dead} reaped`, () => (isReaped(dead) ? true : undefined), 5_000);
    const after = await workerPids();
    assert.ok(!after.has(dead), 'the dead worker no longer answers');
    assert.equal([...after].filter((p) => !before.has(p)).length, 1, 'exactly one new worker');
  }

  it('answers 502 when the worker calls os._exit, and replaces it', async () => {
    const before = await workerPids();
    const result = await httpRequest(`${server.url}/exit`);
    assert.equal(result.status, 502);
    await expectReplaced(before);
  });

  it('answers 502 when the worker gets SIGSEGV, and replaces it', async () => {
    const before = await workerPids();
    const result = await httpRequest(`${server.url}/segv`);
    assert.equal(result.status, 502);
    await expectReplaced(before);
  });

  it('answers 502 when the test kills the busy worker with SIGKILL, and replaces it', async () => {
    const before = await workerPids();
    const pending = httpRequest(`${server.url}/sleep-announce?s=10&mark=k9`, { timeoutMs: 15_000 });
    const match = await server.waitForLog(/sleeping pid=(\d+) mark=k9/, 5_000);
    const victim = Number(match[1]);
    assert.ok(before.has(victim), 'the announced pid is one of the workers');
    process.kill(victim, 'SIGKILL');
    const result = await pending;
    assert.equal(result.status, 502);
    await expectReplaced(before, victim);
  });

  it('leaves a request on the other worker unaffected', async () => {
    await workerPids();
    const slow = httpRequest(`${server.url}/sleep-announce?s=1.5&mark=bystander`, { timeoutMs: 10_000 });
    await server.waitForLog(/sleeping pid=\d+ mark=bystander/, 5_000);
    const crashed = await httpRequest(`${server.url}/exit`);
    assert.equal(crashed.status, 502);
    const bystander = await slow;
    assert.equal(bystander.status, 200);
    assert.equal(bystander.text, 'woke up');
  });

  it('aborts the connection when the worker dies after the body started', async () => {
    await workerPids();
    const { received, text, closed } = await exchangeRaw(server.port, rawRequest('GET', '/exit-after-headers'));
    assert.ok(closed, 'connection closed');
    assert.equal(parseResponses(received, false).responses.length, 0, `no complete response: ${JSON.stringify(text)}`);
    await workerPids();
  });
});
