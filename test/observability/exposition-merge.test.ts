import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mergeExpositions } from '../../src/observability/exposition-merge.js';

const FRONT = (requests: number, rss: number): string =>
  [
    '# HELP portico_requests_total Requests answered.',
    '# TYPE portico_requests_total counter',
    `portico_requests_total{mount="/",status="200"} ${requests}`,
    '',
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    `process_resident_memory_bytes ${rss}`,
    '# HELP portico_latency_seconds Latency.',
    '# TYPE portico_latency_seconds histogram',
    'portico_latency_seconds_bucket{le="0.1"} 3',
    'portico_latency_seconds_bucket{le="+Inf"} 4',
    'portico_latency_seconds_sum 0.5',
    'portico_latency_seconds_count 4',
    '',
  ].join('\n');

describe('mergeExpositions', () => {
  it("groups each family's samples from every source under its one HELP and TYPE, each labelled with its source", () => {
    const merged = mergeExpositions('front', [
      { value: '1', text: FRONT(10, 100) },
      { value: '2', text: FRONT(20, 200) },
    ]);
    assert.equal(
      merged,
      [
        '# HELP portico_requests_total Requests answered.',
        '# TYPE portico_requests_total counter',
        'portico_requests_total{front="1",mount="/",status="200"} 10',
        'portico_requests_total{front="2",mount="/",status="200"} 20',
        '# HELP process_resident_memory_bytes Resident memory size in bytes.',
        '# TYPE process_resident_memory_bytes gauge',
        'process_resident_memory_bytes{front="1"} 100',
        'process_resident_memory_bytes{front="2"} 200',
        '# HELP portico_latency_seconds Latency.',
        '# TYPE portico_latency_seconds histogram',
        'portico_latency_seconds_bucket{front="1",le="0.1"} 3',
        'portico_latency_seconds_bucket{front="1",le="+Inf"} 4',
        'portico_latency_seconds_sum{front="1"} 0.5',
        'portico_latency_seconds_count{front="1"} 4',
        'portico_latency_seconds_bucket{front="2",le="0.1"} 3',
        'portico_latency_seconds_bucket{front="2",le="+Inf"} 4',
        'portico_latency_seconds_sum{front="2"} 0.5',
        'portico_latency_seconds_count{front="2"} 4',
        '',
      ].join('\n'),
    );
    assert.equal((merged.match(/^# TYPE portico_requests_total /gm) ?? []).length, 1, 'one TYPE line a family');
  });

  it('labels a sample with empty braces, one with a timestamp, and one before any TYPE line; escapes the value', () => {
    assert.equal(mergeExpositions('front', [{ value: 'a"b', text: 'up{} 1 1700000000\nlone 2\n' }]), 'up{front="a\\"b"} 1 1700000000\nlone{front="a\\"b"} 2\n');
    assert.equal(mergeExpositions('front', []), '');
  });
});
