/**
 * Issue #20: --max-requests 3 let one worker serve 6 requests. Its successor
 * must be ready before it stops (no request waits for a boot), so it may
 * serve more than its quota, but only what is handed to it while the
 * successor boots, and only when no worker within its quota can take it:
 * once the successor is ready, the old worker takes no new request. Several
 * keep-alive clients send requests back to back; each
 * request is tagged with how many workers had been booted (the debug log's
 * lines, read by this test) when it was sent, and the worker that served it
 * is counted.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { requestOnce } from '../helpers/load-client.js';

const QUOTA = 3;
const CLIENTS = 4;
/** Replacements to watch: enough to see the bound hold more than once. */
const REPLACEMENTS = 3;
/** A bound, not a budget: the loop stops at the boots it waits for; a loaded machine boots slowly while the old worker serves on. */
const MAX_REQUESTS = 20_000;

interface Served {
  /** Workers booted (in the debug log) when the request was sent. */
  bootedBefore: number;
  pid: number;
}

/** What the log says of one replacement: who, after how many requests, how many past its quota, and its successor. */
interface Replacement {
  pid: number;
  served: number;
  beyond: number;
  successor: number;
}

for (const workers of [1, 2]) {
  describe(`--max-requests ${QUOTA} with -w ${workers} under ${CLIENTS} concurrent clients`, { timeout: 60_000 }, () => {
    let server: Portico;
    before(async () => {
      const { app, args } = fixtureApp('sleepy_app');
      server = await startPortico({ app, args: [...args, '-w', String(workers), '--max-requests', String(QUOTA), '--log-level', 'debug'] });
    });
    after(async () => {
      await server?.stop();
    });

    /** Pids in the order their workers became ready. */
    const booted = (): number[] => [...server.logs().matchAll(/booted (?:\w+ )?worker with pid (\d+)/g)].map((match) => Number(match[1]));
    const replacements = (): Replacement[] =>
      [...server.logs().matchAll(/worker (\d+) retired after (\d+) requests, (\d+) of them while worker (\d+) booted/g)].map((match) => ({
        pid: Number(match[1]),
        served: Number(match[2]),
        beyond: Number(match[3]),
        successor: Number(match[4]),
      }));

    it('replaces each worker after its quota, and a replaced worker takes nothing once its successor is ready', async (t) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
      const base = new URL(server.url);
      const served: Served[] = [];
      let sent = 0;
      try {
        await Promise.all(
          Array.from({ length: CLIENTS }, async () => {
            while (booted().length < workers + REPLACEMENTS && sent < MAX_REQUESTS) {
              sent++;
              const bootedBefore = booted().length;
              const result = await requestOnce(agent, base, '/pid', 10_000);
              assert.equal(result.status, 200, result.body);
              served.push({ bootedBefore, pid: Number(result.body) });
            }
          }),
        );
      } finally {
        agent.destroy();
      }

      const order = booted();
      assert.ok(order.length >= workers + REPLACEMENTS, `${REPLACEMENTS} replacements within ${MAX_REQUESTS} requests; booted: ${order.join(' ')}`);
      const perPid = new Map<number, number>();
      for (const { pid } of served) perPid.set(pid, (perPid.get(pid) ?? 0) + 1);
      const replaced = replacements();
      t.diagnostic(`served (past the quota of ${QUOTA}) per replaced worker: ${replaced.map((r) => `${r.served} (${r.beyond})`).join(', ')}`);
      assert.ok(replaced.length >= REPLACEMENTS, `the log says which worker each successor replaced:\n${server.logs()}`);

      for (const { pid, served: count, beyond, successor } of replaced) {
        assert.equal(perPid.get(pid) ?? 0, count, `worker ${pid} answered the ${count} requests the log says it was given`);
        assert.ok(count >= QUOTA && beyond === count - QUOTA, `worker ${pid} served its quota first: ${count}, ${beyond} beyond`);
        // Every request sent once the successor was ready (its boot line read) went elsewhere.
        const readyAt = order.indexOf(successor);
        assert.ok(readyAt !== -1, `successor ${successor} booted`);
        const late = served.filter((s) => s.pid === pid && s.bootedBefore > readyAt).length;
        assert.equal(late, 0, `worker ${pid} took ${late} request(s) sent after its successor ${successor} was ready`);
      }
    });
  });
}
