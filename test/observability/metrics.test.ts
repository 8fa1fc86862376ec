import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metrics, type MeteredMount } from '../../src/observability/metrics.js';
import { EXIT_REASONS, type ExitReason, type MountSnapshot } from '../../src/observability/mount-snapshot.js';

function exits(counts: Partial<Record<ExitReason, number>> = {}): Record<ExitReason, number> {
  return Object.fromEntries(EXIT_REASONS.map((reason) => [reason, counts[reason] ?? 0])) as Record<ExitReason, number>;
}

/** An app mount at '/' whose one worker is this test's own process (so that its RSS can be read). */
function appSnapshot(): MountSnapshot {
  return {
    queued: 3,
    inflight: 2,
    websockets: 1,
    pool: {
      target: 2,
      generation: 4,
      queued: 3,
      workers: [
        { pid: process.pid, state: 'ready', generation: 4, served: 10, inflight: 2, startedAt: Date.now() },
        { pid: 2 ** 22 + 1, state: 'booting', generation: 4, served: 0, inflight: 0, startedAt: Date.now() },
      ],
      exits: exits({ crash: 2, reload: 1 }),
      lastExit: null,
    },
  };
}

const MOUNTS: MeteredMount[] = [
  { prefix: '', kind: 'app', snapshot: appSnapshot },
  { prefix: '/cgi-bin', kind: 'cgi', snapshot: () => ({ inflight: 0 }) },
  { prefix: '/static', kind: 'static', snapshot: () => undefined },
];

function entry(mount: string | null, status: number, ms: number, bodyBytes = 0): Parameters<Metrics['record']>[0] {
  return { mount, status, startedAt: 10_000, endedAt: 10_000 + ms, bodyBytes };
}

/** The value of one sample line, by its name and labels as printed. */
function sample(text: string, line: string): number | undefined {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe('Metrics', () => {
  it('counts requests by mount and status, with their durations, from the record', async () => {
    const metrics = new Metrics(MOUNTS);
    metrics.record(entry('', 200, 3));
    metrics.record(entry('', 200, 30));
    metrics.record(entry('', 503, 0.5));
    metrics.record(entry('/cgi-bin', 404, 8));
    metrics.record(entry('/static', 200, 1, 1234));
    metrics.record(entry('/static', 304, 1, 0));
    metrics.record(entry(null, 404, 0.2));
    const text = await metrics.render();
    assert.equal(sample(text, 'portico_http_requests_total{mount="/",status="200"}'), 2);
    assert.equal(sample(text, 'portico_http_requests_total{mount="/",status="503"}'), 1);
    assert.equal(sample(text, 'portico_http_requests_total{mount="/cgi-bin",status="404"}'), 1);
    assert.equal(sample(text, 'portico_http_requests_total{mount="",status="404"}'), 1, 'what no mount served');
    assert.equal(sample(text, 'portico_cgi_scripts_total{mount="/cgi-bin",status="404"}'), 1);
    assert.equal(sample(text, 'portico_cgi_scripts_total{mount="/",status="200"}'), undefined);
    assert.equal(sample(text, 'portico_static_bytes_total{mount="/static"}'), 1234);
    assert.equal(sample(text, 'portico_http_request_duration_seconds_bucket{mount="/",le="0.001"}'), 1);
    assert.equal(sample(text, 'portico_http_request_duration_seconds_bucket{mount="/",le="0.005"}'), 2);
    assert.equal(sample(text, 'portico_http_request_duration_seconds_bucket{mount="/",le="+Inf"}'), 3);
    assert.equal(sample(text, 'portico_http_request_duration_seconds_count{mount="/"}'), 3);
    assert.ok(Math.abs((sample(text, 'portico_http_request_duration_seconds_sum{mount="/"}') ?? 0) - 0.0335) < 1e-9);
    assert.match(text, /^# TYPE portico_http_request_duration_seconds histogram$/m);
    assert.match(text, /^# TYPE portico_http_requests_total counter$/m);
  });

  it('leaves a WebSocket (101) out of the durations, not out of the count', async () => {
    const metrics = new Metrics(MOUNTS);
    metrics.record(entry('', 101, 60_000));
    const text = await metrics.render();
    assert.equal(sample(text, 'portico_http_requests_total{mount="/",status="101"}'), 1);
    assert.equal(sample(text, 'portico_http_request_duration_seconds_count{mount="/"}'), undefined);
  });

  it('asks the mounts what they are doing at the scrape: workers, queue, in flight, WebSockets, exits, RSS', async () => {
    const text = await new Metrics(MOUNTS).render();
    assert.equal(sample(text, 'portico_workers{mount="/",state="ready"}'), 1);
    assert.equal(sample(text, 'portico_workers{mount="/",state="booting"}'), 1);
    assert.equal(sample(text, 'portico_workers{mount="/",state="stopping"}'), 0);
    assert.equal(sample(text, 'portico_queue_depth{mount="/"}'), 3);
    assert.equal(sample(text, 'portico_inflight_requests{mount="/"}'), 2);
    assert.equal(sample(text, 'portico_inflight_requests{mount="/cgi-bin"}'), 0);
    assert.equal(sample(text, 'portico_inflight_requests{mount="/static"}'), undefined);
    assert.equal(sample(text, 'portico_websocket_connections{mount="/"}'), 1);
    for (const reason of EXIT_REASONS) {
      const expected = reason === 'crash' ? 2 : reason === 'reload' ? 1 : 0;
      assert.equal(sample(text, `portico_worker_exits_total{mount="/",reason="${reason}"}`), expected, reason);
    }
    const rss = sample(text, `portico_worker_resident_memory_bytes{mount="/",pid="${process.pid}"}`);
    assert.ok(rss !== undefined && rss > 1024 * 1024, `RSS of this process: ${rss}`);
    assert.doesNotMatch(text, new RegExp(`pid="${2 ** 22 + 1}"`), 'a pid /proc does not know has no RSS line');
  });

  it("has prom-client's default process metrics for the front", async () => {
    const text = await new Metrics(MOUNTS).render();
    assert.match(text, /^process_resident_memory_bytes \d+/m);
    assert.match(text, /^nodejs_eventloop_lag_seconds /m);
  });

  it('gives concurrent scrapes one render, and a later scrape a new one', async () => {
    let snapshots = 0;
    const metrics = new Metrics([{ prefix: '', kind: 'app', snapshot: () => (snapshots++, appSnapshot()) }]);
    const texts = await Promise.all(Array.from({ length: 100 }, () => metrics.render()));
    assert.equal(snapshots, 1);
    assert.ok(texts.every((text) => text === texts[0]));
    await metrics.render();
    assert.equal(snapshots, 2);
  });

  it('keeps each server its own registry', async () => {
    const a = new Metrics(MOUNTS);
    const b = new Metrics(MOUNTS);
    a.record(entry('', 200, 1));
    assert.equal(sample(await b.render(), 'portico_http_requests_total{mount="/",status="200"}'), undefined);
    assert.equal(sample(await a.render(), 'portico_http_requests_total{mount="/",status="200"}'), 1);
  });
});
