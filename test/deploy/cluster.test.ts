/**
 * Scale-out behind real load balancers (#18): three hosts, each a network
 * namespace running one portico (-w 2) of host_app.py, behind Debian's nginx
 * and then Debian's HAProxy in a fourth namespace, loaded from a fifth
 * (lab-network.ts draws the network). The balancers run docs/deploy.md's
 * configurations (balancer-configs.ts). For each balancer: the spread of
 * 3,000 requests, the client's address at the application, a rolling restart,
 * a SIGHUP of every host at once, and a host killed outright, each under the
 * load of 16 keep-alive clients; the counts, p99 and failures are reported as
 * diagnostics.
 *
 * Needs root (CI runs as root) and skips, saying why, elsewhere.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { APP_PORT, ClusterHost, CONTROL_PORT } from './cluster-host.js';
import { LabNetwork, labUnavailable } from './lab-network.js';
import { LabBalancer, missingBalancers, type BalancerKind } from './lab-balancer.js';
import { LoadRun } from './load-run.js';
import { readyAt } from './readiness-probe.js';
import type { Summary } from './load-generator.js';
import {
  CHECK_INTER_MS,
  CHECK_RISE,
  FAIL_TIMEOUT_S,
  SHUTDOWN_DELAY_S,
  haproxySite,
  hostFlags,
  nginxSite,
  nginxUwsgiSite,
  type ClusterLayout,
} from './balancer-configs.js';

const ROLES = { lb: 2, client: 10, h1: 11, h2: 12, h3: 13 };
const HOSTS = ['h1', 'h2', 'h3'];
const CLIENTS = 16;
const SPREAD_REQUESTS = 3000;

function unavailable(): string | null {
  const why = labUnavailable() ?? (missingBalancers().length > 0 ? `missing ${missingBalancers().join(', ')}: scripts/install-system-deps.sh installs them` : null);
  // CI runs as root with the packages installed: there, a missing piece is a failure, not a skip.
  if (why !== null && process.env.CI) throw new Error(`the deployment test cannot run on CI: ${why}`);
  return why;
}

/** A promise awaited later, whose rejection must not count as unhandled if the test fails first. */
function settleLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

function describeSummary(s: Summary): string {
  return `${s.served} served, ${s.failed} failed${s.failed > 0 ? ` ${JSON.stringify(s.failures)}` : ''} in ${s.elapsedMs} ms; p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms; per host ${JSON.stringify(s.perHost)}`;
}

function assertNoFailures(s: Summary, what: string): void {
  assert.equal(s.failed, 0, `${what}: ${describeSummary(s)}; ${s.samples.join(' | ')}`);
}

const skip = unavailable() ?? false;

describe('deploy: three hosts behind nginx and HAProxy (#18)', { skip, timeout: 170_000 }, () => {
  let lab: LabNetwork;
  let hosts: ClusterHost[] = [];
  let balancer: LabBalancer | null = null;
  let load: LoadRun | null = null;

  const layout = (): ClusterLayout => ({
    listen: `${lab.node('lb').address}:80`,
    hosts: HOSTS.map((role) => ({ name: role, address: lab.node(role).address })),
    appPort: APP_PORT,
    controlPort: CONTROL_PORT,
  });
  const url = (): string => `http://${lab.node('lb').address}/`;
  const clientAddress = (): string => lab.node('client').address;
  const failureReport = (): string =>
    [...hosts.map((h) => `--- ${h.role} ---\n${h.logs().slice(-3000)}`), `--- ${balancer?.kind ?? 'balancer'} ---\n${balancer?.logs().slice(-3000) ?? ''}`].join('\n');

  before(() => {
    lab = new LabNetwork(ROLES);
    lab.create();
  });

  after(async () => {
    load?.kill();
    for (const host of hosts) host.kill();
    await balancer?.stop();
    lab?.destroy();
  });

  /** Starts the three hosts with `flags` and the balancer with `site`; resolves once the balancer reaches all three. */
  async function bringUp(kind: BalancerKind, site: string, flags: string[]): Promise<void> {
    hosts = HOSTS.map((role) => new ClusterHost(lab, role, flags));
    await Promise.all(hosts.map((h) => h.start()));
    balancer = LabBalancer.start(lab, kind, site);
    const deadline = Date.now() + 15_000;
    for (;;) {
      const probe = new LoadRun(lab, { url: url(), clients: 3, requests: 30, timeoutMs: 2_000 });
      const summary = await probe.finish();
      if (summary.failed === 0 && Object.keys(summary.perHost).length === HOSTS.length) return;
      if (Date.now() > deadline || !balancer.running) {
        throw new Error(`${kind} did not reach all three hosts: ${describeSummary(summary)} ${summary.samples.join(' | ')}\n${failureReport()}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async function tearDown(): Promise<void> {
    load?.kill();
    load = null;
    await balancer?.stop();
    balancer = null;
    // A second SIGTERM cuts --shutdown-delay short: no balancer is left to notice it.
    await Promise.all(
      hosts.map(async (h) => {
        if (h.running) h.signal('SIGTERM');
        await new Promise((r) => setTimeout(r, 100));
        if (h.running) h.signal('SIGTERM');
        await h.waitForExit(20_000).catch(() => h.kill());
      }),
    );
    hosts = [];
  }

  // nginx has no readiness check: it may send to a host whose listener is open while its workers
  // still boot, and that request waits for the first worker, before /readyz says 200.
  const servedWhen = (ms: number): string => (ms >= 0 ? `${ms} ms after /readyz first answered 200` : `${-ms} ms before /readyz answered 200`);
  const readyzOf = (host: ClusterHost): string => `http://${host.address}:${CONTROL_PORT}/readyz`;

  /** With HAProxy, when its checks mark `role` DOWN (Date.now()); null with nginx, which has no checks. */
  async function takenOut(role: string, timeoutMs = 10_000): Promise<number | null> {
    if (balancer?.kind !== 'haproxy') return null;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const status = (await balancer.serverStats()).get(role)?.status ?? '';
      if (status.startsWith('DOWN') || status.startsWith('MAINT')) return Date.now();
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`HAProxy did not mark ${role} DOWN within ${timeoutMs} ms`);
  }

  /**
   * What the balancer did with the requests that met a dead host, from its
   * own counters (HAProxy) or error log (nginx): the counts so far.
   */
  async function balancerCounts(role: string): Promise<Record<string, number>> {
    if (balancer?.kind === 'haproxy') {
      const s = (await balancer.serverStats()).get(role) ?? {};
      return { retried: Number(s.wretr), redispatched: Number(s.wredis), 'connection errors': Number(s.econ), 'response errors': Number(s.eresp) };
    }
    return {
      'connections refused': balancer?.errorLogCount(/connect\(\) failed \(111: Connection refused\)/) ?? 0,
      'responses cut': balancer?.errorLogCount(/upstream prematurely closed|recv\(\) failed \(104|reset by peer/) ?? 0,
    };
  }

  function countsSince(before: Record<string, number>, now: Record<string, number>): string {
    return Object.entries(now).map(([name, n]) => `${name} ${n - (before[name] ?? 0)}`).join(', ');
  }

  async function spread(t: TestContext): Promise<Summary> {
    const run = new LoadRun(lab, { url: url(), clients: CLIENTS, requests: SPREAD_REQUESTS });
    const summary = await run.finish(60_000);
    t.diagnostic(`${SPREAD_REQUESTS} requests: ${describeSummary(summary)}`);
    assertNoFailures(summary, 'spread');
    for (const role of HOSTS) {
      const share = (summary.perHost[role] ?? 0) / summary.served;
      assert.ok(share >= 0.25 && share <= 0.42, `${role} got ${(share * 100).toFixed(1)}% of the requests: ${describeSummary(summary)}`);
    }
    return summary;
  }

  function checkClientAddress(summary: Summary): void {
    assert.deepEqual(Object.keys(summary.remoteAddrs), [clientAddress()], `REMOTE_ADDR at the application: ${JSON.stringify(summary.remoteAddrs)}`);
  }

  /** Each host in turn: SIGTERM, exit, start again, and serve through the balancer again, all under load. */
  async function rollingRestart(t: TestContext, backWithinMs: number): Promise<void> {
    load = new LoadRun(lab, { url: url(), clients: CLIENTS });
    await load.started();
    await new Promise((r) => setTimeout(r, 500));
    const steps: string[] = [];
    for (const host of hosts) {
      const old = host.pid;
      const t0 = Date.now();
      host.signal('SIGTERM');
      const down = settleLater(takenOut(host.role));
      await host.waitForExit(30_000);
      const exited = Date.now();
      const ready = settleLater(readyAt(lab, readyzOf(host)));
      await host.start();
      const first = await load.firstFrom(host.role, host.pid, backWithinMs + 10_000);
      const back = first.at - (await ready);
      const outAt = await down;
      steps.push(`${host.role} (front ${old} -> ${host.pid}): ${outAt === null ? '' : `out of rotation ${outAt - t0} ms after SIGTERM, `}exited after ${exited - t0} ms, ` +
        `listening ${host.readyAt - exited} ms later, served through the balancer ${servedWhen(back)}`);
      if (outAt !== null) assert.ok(outAt - t0 < SHUTDOWN_DELAY_S * 1000, `${host.role} was taken out ${outAt - t0} ms after SIGTERM, after --shutdown-delay ${SHUTDOWN_DELAY_S}`);
      assert.ok(back <= backWithinMs, `${host.role} came back ${back} ms after it was ready; bound ${backWithinMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 500));
    const summary = await load.finish();
    load = null;
    t.diagnostic(`rolling restart: ${describeSummary(summary)}`);
    for (const step of steps) t.diagnostic(`  ${step}`);
    assertNoFailures(summary, 'rolling restart');
    for (const host of hosts) assert.ok((summary.perFront[`${host.role}/${host.pid}`] ?? 0) > 0, `${host.role}'s new portico served`);
  }

  async function reloadAll(t: TestContext): Promise<void> {
    load = new LoadRun(lab, { url: url(), clients: CLIENTS });
    await load.started();
    await new Promise((r) => setTimeout(r, 500));
    const marks = hosts.map((h) => h.mark());
    const t0 = Date.now();
    for (const host of hosts) host.signal('SIGHUP');
    await Promise.all(hosts.map((h, i) => h.waitForLog(/reloaded: new workers ready/, 20_000, marks[i])));
    const reloaded = Date.now() - t0;
    await new Promise((r) => setTimeout(r, 1000));
    const summary = await load.finish();
    load = null;
    t.diagnostic(`SIGHUP to all three hosts (reloaded within ${reloaded} ms): ${describeSummary(summary)}`);
    assertNoFailures(summary, 'SIGHUP');
  }

  /** SIGKILL to one host's front under load; then it starts again and must be back within `backWithinMs`. */
  async function killOne(t: TestContext, backWithinMs: number): Promise<void> {
    const victim = hosts[1] as ClusterHost;
    const countsBefore = await balancerCounts(victim.role);
    load = new LoadRun(lab, { url: url(), clients: CLIENTS });
    await load.started();
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    victim.signal('SIGKILL');
    const down = settleLater(takenOut(victim.role));
    await victim.waitForExit(5_000);
    // Its workers see their channel close and go; the host is empty before it restarts.
    const deadline = Date.now() + 5_000;
    while (LabNetwork.pidsIn(lab.node(victim.role).ns).length > 0) {
      assert.ok(Date.now() < deadline, `${victim.role}'s workers outlived the front by 5 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const outAt = await down;
    await new Promise((r) => setTimeout(r, 2_000));
    const ready = settleLater(readyAt(lab, readyzOf(victim)));
    await victim.start();
    const first = await load.firstFrom(victim.role, victim.pid, backWithinMs + 10_000);
    const back = first.at - (await ready);
    await new Promise((r) => setTimeout(r, 500));
    const summary = await load.finish();
    load = null;
    t.diagnostic(`SIGKILL to ${victim.role}: ${describeSummary(summary)}`);
    for (const sample of summary.samples) t.diagnostic(`  failed: ${sample}`);
    t.diagnostic(`  ${victim.role} ${outAt === null ? '' : `was out of rotation ${outAt - t0} ms after SIGKILL; it `}served through the balancer again ${servedWhen(back)} (bound ${backWithinMs} ms)`);
    t.diagnostic(`  ${balancer?.kind} for ${victim.role}: ${countsSince(countsBefore, await balancerCounts(victim.role))}`);
    // At most the requests in flight on that host: with 16 clients, 16 at the very most.
    assert.ok(summary.failed <= CLIENTS, `more failed than could have been in flight: ${describeSummary(summary)}`);
    assert.ok(back <= backWithinMs, `${victim.role} came back ${back} ms after it was ready; bound ${backWithinMs} ms`);
  }

  describe('nginx: proxy_pass with keepalive, X-Forwarded-For trusted by --forwarded-allow-ips', () => {
    before(async () => bringUp('nginx', nginxSite(layout()), hostFlags('nginx', lab.node('lb').address)));
    after(tearDown);

    it(`spreads ${SPREAD_REQUESTS} requests: every host gets 25–42%`, async (t) => {
      checkClientAddress(await spread(t));
    });

    it("gives the application the client's address through X-Forwarded-For, and no one else's", async () => {
      checkClientAddress(await new LoadRun(lab, { url: url(), clients: 4, requests: 200 }).finish());
      // Straight to a host, a forged X-Forwarded-For is not believed: the client is no trusted proxy.
      const forged = lab.execIn('client', [process.execPath, '-e',
        `fetch('http://${lab.node('h1').address}:${APP_PORT}/', { headers: { 'X-Forwarded-For': '192.0.2.1' } }).then(async (r) => console.log(await r.text()))`]);
      assert.equal(forged.status, 0, forged.stderr);
      assert.equal((JSON.parse(forged.stdout) as { remote_addr: string }).remote_addr, clientAddress());
    });

    it('loses nothing in a rolling restart under load', async (t) => rollingRestart(t, FAIL_TIMEOUT_S * 1000 + 1000));

    it('loses nothing when every host gets SIGHUP at once under load', async (t) => reloadAll(t));

    it('takes out a host killed with SIGKILL, and puts it back once it restarts', async (t) => killOne(t, FAIL_TIMEOUT_S * 1000 + 1000));
  });

  describe('nginx: uwsgi_pass to --protocol uwsgi', () => {
    before(async () =>
      bringUp('nginx', nginxUwsgiSite(layout()), hostFlags('nginx-uwsgi', lab.node('lb').address)));
    after(tearDown);

    it(`spreads ${SPREAD_REQUESTS} requests, and the application sees the client's address`, async (t) => {
      checkClientAddress(await spread(t));
    });
  });

  describe('HAProxy: send-proxy-v2 to --proxy-protocol, health checks on /readyz', () => {
    before(async () => bringUp('haproxy', haproxySite(layout()), hostFlags('haproxy', lab.node('lb').address)));
    after(tearDown);

    it(`spreads ${SPREAD_REQUESTS} requests: every host gets 25–42%, and the application sees the client's address through PROXY v2`, async (t) => {
      checkClientAddress(await spread(t));
    });

    it('loses nothing in a rolling restart under load', async (t) => rollingRestart(t, CHECK_INTER_MS * CHECK_RISE + 1000));

    it('loses nothing when every host gets SIGHUP at once under load', async (t) => reloadAll(t));

    // Bounds: one check interval, and a second for the load generator to see it on a busy machine.
    it('takes out a host killed with SIGKILL, and puts it back within the check interval once it restarts', async (t) =>
      killOne(t, CHECK_INTER_MS * CHECK_RISE + 1000));
  });
});
