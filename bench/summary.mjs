// Medians over the rounds, per workload, worker count, connection count and
// server; each server's throughput relative to portico's in the same cell.
import { METRICS, connectionsOf, workloads } from './workloads.mjs';
import { peers } from './peers/index.mjs';
import { median } from './stats.mjs';

export function workloadById(id) {
  return workloads.find((w) => w.id === id);
}

/**
 * Whether a server closes the connection after every response without
 * Connection: close. wrk then sends its next request on a closed connection,
 * counts a read error and reconnects: for such a server its read errors are
 * reconnections, not failed requests. Results written before cells recorded
 * it are read by the peer's id.
 */
function closesConnections(cell) {
  return cell.closesConnections ?? peers[cell.peer]?.closesConnections ?? false;
}

/**
 * rows[]: { workload, workers, connections, peer, label, status, value, p50, p99, errors, reconnects, serverCpu,
 * machineCpu, rounds, relative }, and for the WebSocket cells clientCpu, and for the idle ones perConnectionPss,
 * beforeRss, heldRss, opened and openSeconds.
 */
export function summarize(results) {
  const rows = [];
  for (const group of results.groups) {
    const workload = workloadById(group.workload);
    const metric = METRICS[workload.metric];
    for (const connections of connectionsOf(workload, results.plan)) {
      const cellRows = group.cells.map((cell) => {
        const runs = cell.runs.filter((run) => run.connections === connections && !run.error);
        const row = {
          workload: workload.id,
          workers: group.workers,
          connections,
          peer: cell.peer,
          label: cell.label,
          status: cell.status,
          reason: cell.reason,
          rounds: runs.length,
        };
        if (runs.length) {
          row.value = median(runs.map(metric.value));
          row.rps = median(runs.map((r) => r.rps));
          // wrk reports 0 latency for a run that completed no request.
          const answered = runs.filter((r) => r.requests > 0);
          row.p50 = median(answered.map((r) => r.latency.p50));
          row.p99 = median(answered.map((r) => r.latency.p99));
          // A WebSocket that ends early is an error whoever closed it.
          const closes = workload.kind !== 'websocket' && closesConnections(cell);
          const socketErrors = (r) => Object.entries(r.errors).reduce((sum, [kind, n]) => sum + (closes && kind === 'read' ? 0 : n), 0);
          row.errors = median(runs.map((r) => socketErrors(r) + r.non2xx));
          if (closes) row.reconnects = median(runs.map((r) => r.errors.read));
          row.requests = median(runs.map((r) => r.requests));
          // CPU seconds per answered request, server's processes and whole machine (wrk included).
          const measured = runs.filter((r) => r.cpu && r.requests > r.non2xx);
          if (measured.length) {
            const perRequest = (r, part) => r.cpu[part] / (r.requests - r.non2xx);
            row.serverCpu = median(measured.map((r) => perRequest(r, 'server')));
            row.machineCpu = median(measured.map((r) => perRequest(r, 'machine')));
            // The leader's share (portico's front; the rest is its workers).
            const leaderOf = (r) => r.cpu.processes?.find((p) => p.pid === (r.leaderPid ?? cell.leaderPid));
            const leader = measured.filter(leaderOf);
            if (leader.length) row.leaderCpu = median(leader.map((r) => leaderOf(r).seconds / (r.requests - r.non2xx)));
          }
          // The WebSocket load client's own CPU, per round trip or message.
          const client = runs.filter((r) => r.clientCpu !== undefined && r.requests > r.non2xx);
          if (client.length) row.clientCpu = median(client.map((r) => r.clientCpu / (r.requests - r.non2xx)));
          // The idle WebSockets: memory before and with them open, per connection.
          const idle = runs.filter((r) => r.perConnection);
          if (idle.length) {
            row.perConnectionPss = median(idle.map((r) => r.perConnection.pss));
            row.beforeRss = median(idle.map((r) => r.before.rss));
            row.heldRss = median(idle.map((r) => r.held.rss));
            row.opened = median(idle.map((r) => r.requests));
            row.openSeconds = median(idle.map((r) => r.seconds));
          }
        } else if (cell.status === 'ok') {
          row.status = 'failed';
          row.reason = cell.runs.find((r) => r.error)?.error.split('\n')[0] ?? 'no runs';
        }
        return row;
      });
      const portico = cellRows.find((row) => row.peer === 'portico');
      for (const row of cellRows) {
        if (portico?.value && row.value !== undefined) row.relative = row.value / portico.value;
      }
      rows.push(...cellRows);
    }
  }
  return rows;
}

export function findRow(rows, { workload, workers, connections, peer }) {
  return rows.find((r) => r.workload === workload && r.workers === workers && r.connections === connections && r.peer === peer);
}
