// Writes the benchmark page: docs/benchmarks.md, one SVG chart per workload
// in docs/benchmarks/, and the raw results beside them (from which the page
// can be rebuilt: node bench/report.mjs docs/benchmarks/results.json).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiB } from './memory.mjs';
import { findRow, summarize, workloadById } from './summary.mjs';
import { barChart, formatNumber } from './svg-chart.mjs';
import { evaluateTargets, formatBytes } from './targets.mjs';
import { METRICS, connectionsOf, workloads } from './workloads.mjs';
import { wrkArgv } from './wrk.mjs';
import { wsClientArgv } from './ws-load.mjs';

const mib = (bytes) => (bytes / MiB).toFixed(1);

function ms(seconds) {
  if (seconds === undefined || Number.isNaN(seconds)) return '–';
  if (seconds >= 1) return `${seconds.toFixed(2)} s`;
  return `${(seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1)} ms`;
}

/** CPU seconds per request, in µs below a millisecond, else in ms. */
function cpuTime(seconds) {
  if (seconds === undefined) return '–';
  return seconds >= 0.001 ? `${(seconds * 1000).toFixed(2)} ms` : `${Math.round(seconds * 1e6)} µs`;
}

function cellName(workers, connections) {
  return `${workers} worker${workers > 1 ? 's' : ''} · ${connections} conns`;
}

function table(header, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** The worker and connection counts a workload's rows were measured at, in plan order. */
function cellsOf(rows, workloadId) {
  const seen = new Map();
  for (const row of rows.filter((r) => r.workload === workloadId)) seen.set(`${row.workers}/${row.connections}`, [row.workers, row.connections]);
  return [...seen.values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

function errorsText(row) {
  const errors = Math.round(row.errors).toLocaleString('en-US');
  return !row.reconnects ? errors : `${errors} (${Math.round(row.reconnects).toLocaleString('en-US')} reconnects)`;
}

function unavailable(row) {
  return row.status === 'not available' ? `not available: ${row.reason}` : `${row.status}: ${row.reason ?? ''}`;
}

function workloadSection(results, rows, workload, chartPath) {
  const metric = METRICS[workload.metric];
  const what = workload.kind === 'websocket'
    ? `WebSocket \`${workload.wsPath}\` of \`bench/apps/asgi_ws.py\`: ${workload.method}.`
    : `Requests: \`${workload.script ? 'POST' : 'GET'} ${workload.path}\`${workload.script ? ' with a 10 MiB body' : ''}.`;
  const out = [`### ${workload.title}`, '', what, ''];
  out.push(`![${workload.title}](${chartPath})`, '');
  if (workload.metric === 'idleBytes') return [...out, idleTable(rows, workload), ''].join('\n');
  if (workload.ideal) out.push(`At best ${formatNumber(workload.ideal)} req/s: every connection waits 100 ms for each answer.`, '');
  const body = [];
  const shown = [];
  for (const [workers, connections] of cellsOf(rows, workload.id)) {
    for (const row of rows.filter((r) => r.workload === workload.id && r.workers === workers && r.connections === connections)) {
      shown.push(row);
      const label = row.peer === 'portico' ? `**${row.label}**` : row.label;
      if (row.value === undefined) {
        body.push([label, workers, connections, unavailable(row), '', '', '', '', '', '']);
        continue;
      }
      const rate = workload.metric !== 'mibps' ? formatNumber(row.value) : `${formatNumber(row.value)} (${formatNumber(row.rps)} req/s)`;
      const relative = row.relative === undefined ? '–' : `${row.relative.toFixed(2)}×`;
      body.push([label, workers, connections, rate, relative, ms(row.p50), ms(row.p99), errorsText(row), cpuTime(row.serverCpu), cpuTime(row.machineCpu)]);
    }
  }
  if (workload.kind === 'websocket') {
    // The load client's CPU per round trip or message, beside the server's: it runs as a process of its own.
    const clientColumn = shown.map((row) => cpuTime(row.clientCpu));
    // portico's server CPU split into front and worker: where a round trip's time goes.
    const serverColumn = shown.map((row) => (row.peer === 'portico' && row.leaderCpu !== undefined ? `${cpuTime(row.serverCpu)} (front ${cpuTime(row.leaderCpu)})` : cpuTime(row.serverCpu)));
    const withClient = body.map((cells, i) => (cells[4] === '' ? [...cells, ''] : [...cells.slice(0, 8), serverColumn[i], clientColumn[i], cells[9]]));
    const unit = metric.unit;
    out.push(table(['Server', 'Workers', 'Conns', metric.label, 'vs portico', 'p50', 'p99', 'errors', `server CPU/${unit}`, `client CPU/${unit}`, `machine CPU/${unit}`], withClient), '');
    return out.join('\n');
  }
  out.push(table(['Server', 'Workers', 'Conns', metric.label, 'vs portico', 'p50', 'p99', 'errors', 'server CPU/req', 'machine CPU/req'], body), '');
  const closers = [...new Set(shown.filter((r) => r.reconnects > 0).map((r) => r.label))];
  if (closers.length) out.push(closersNote(closers), '');
  return out.join('\n');
}

/** The idle WebSockets: memory per connection, and what opening them cost. */
function idleTable(rows, workload) {
  const kib = (bytes) => (bytes / 1024).toFixed(1);
  const body = rows
    .filter((r) => r.workload === workload.id)
    .map((row) => {
      const label = row.peer === 'portico' ? `**${row.label}**` : row.label;
      if (row.value === undefined) return [label, row.workers, unavailable(row), '', '', '', '', '', '', '', ''];
      return [
        label,
        row.workers,
        formatNumber(row.opened),
        mib(row.beforeRss),
        mib(row.heldRss),
        row.value.toFixed(1),
        kib(row.perConnectionPss),
        row.relative === undefined ? '–' : `${row.relative.toFixed(2)}×`,
        `${row.openSeconds.toFixed(1)} s`,
        cpuTime(row.serverCpu),
        errorsText(row),
      ];
    });
  return [
    table(['Server', 'Workers', 'Open', 'RSS before (MiB)', 'RSS open (MiB)', 'KiB RSS/conn', 'KiB PSS/conn', 'vs portico', 'time to open', 'server CPU/handshake', 'errors'], body),
    '',
    'Per connection: (RSS with all open − RSS before) ÷ connections open, over every process of the server (portico: front and worker). Errors: handshakes that failed, and connections that were gone when the client came to close them.',
  ].join('\n');
}

/** How to read the rows of a server that closes every connection without saying so. */
function closersNote(labels) {
  const names = labels.join(' and ');
  return `${names} closed connections after responses without \`Connection: close\`: wrk sends its next request on the closed connection, counts a read error, reconnects and sends it again. Those read errors are shown as reconnects, not as errors, and req/s counts answered requests only. The time a connection spends reconnecting is not in wrk's latencies, so ${names}'s p50 and p99 describe only the connections with a request in flight, and are not comparable with those of servers that keep their connections.`;
}

function chartFor(results, rows, workload) {
  const metric = METRICS[workload.metric];
  const panels = [];
  for (const [workers, connections] of cellsOf(rows, workload.id)) {
    const bars = rows
      .filter((r) => r.workload === workload.id && r.workers === workers && r.connections === connections)
      .map((r) => ({ label: r.label, value: r.value, relative: r.relative, highlight: r.peer === 'portico', note: r.status }));
    if (bars.length) panels.push({ title: cellName(workers, connections), bars });
  }
  const better = metric.lowerIsBetter ? 'lower' : 'higher';
  return barChart({ title: `${workload.title}: ${metric.label}, median of ${results.plan.rounds} round${results.plan.rounds > 1 ? 's' : ''} (${better} is better)`, unit: metric.label, panels });
}

// Issue #15: what the uWSGI ratios are, and are not, evidence of.
const UWSGI_NOTES = [
  'Read the uWSGI rows with care. uWSGI\'s `--http-socket` closes the connection after every response, without `Connection: close`, so each of its requests also pays for a new loopback connection, and wrk counts a read error for each (the tables show those as reconnects). A ratio against it then depends on how cheaply the machine opens loopback connections, not only on the two servers: issue #15 reports ratios against it swinging from 0.94× to 1.6× between machines with portico unchanged.',
  'Nobody deploys uWSGI that way: behind nginx, over `uwsgi_pass`, the client keeps its connection and uWSGI speaks its own protocol on a UNIX socket. That is the row *nginx → uWSGI (uwsgi_pass)*, beside *nginx → gunicorn gthread (proxy_pass, keepalive)* and bare Node sending the same bytes: what a user compares portico with when choosing. The targets still name `--http-socket`, as their issue does.',
];

/** The peers that ran in at least one cell of the results. */
function peersRun(results) {
  return new Set(results.groups.flatMap((g) => g.cells.filter((c) => c.runs?.length).map((c) => c.peer)));
}

function uwsgiNote(results) {
  const ran = peersRun(results);
  if (!ran.has('uwsgi')) return '';
  return `${(ran.has('nginx-uwsgi') ? UWSGI_NOTES : UWSGI_NOTES.slice(0, 1)).join('\n\n')}\n`;
}

function idealText(cell) {
  const where = `${cell.workers} w · ${cell.connections} c`;
  if (cell.ratio === undefined) return `${where}: n/a (${cell.missing})`;
  return `${where}: ${formatNumber(cell.value)} req/s, ${cell.ratio.toFixed(2)}× ${cell.met ? '✓' : '✗'}`;
}

/** What the target's ceiling peer reached on the same comparison, in the same cell: see targets.mjs. */
function ceilingText(target, cell, rows) {
  const ceiling = findRow(rows, { workload: target.workload, workers: cell.workers, connections: cell.connections, peer: target.ceiling });
  return `${ceiling.label} itself ${cell.ceiling.toFixed(2)}×`;
}

/** A target of a workload with its own cells: each cell's ratio and the two figures. */
function ownCellsText(target, rows) {
  return target.cells
    .map((cell) => {
      const where = `${cell.workers} w · ${cell.connections.toLocaleString('en-US')} c`;
      if (cell.ratio === undefined) return `${where}: n/a (${cell.missing})`;
      const metric = METRICS[workloadById(target.workload).metric];
      const peer = findRow(rows, { workload: target.workload, workers: cell.workers, connections: cell.connections, peer: target.peer });
      return `${where}: ${cell.ratio.toFixed(2)}× ${cell.met ? '✓' : '✗'} (portico ${formatNumber(cell.ours)}, ${peer.label} ${formatNumber(cell.theirs)} ${metric.label}${cell.ceiling === undefined ? '' : `; ${ceilingText(target, cell, rows)}`})`;
    })
    .join('; ');
}

function targetsSection(results, rows) {
  const { ratios: allRatios, ideals, memory, streams } = evaluateTargets(results, rows);
  const ratios = allRatios.filter((t) => !t.ownCells);
  const own = allRatios.filter((t) => t.ownCells && t.cells.some((c) => c.missing !== 'not in this run'));
  const cells = results.plan.workers.flatMap((w) => results.plan.connections.map((c) => [w, c]));
  const body = ratios.map((t) => [
    t.text,
    ...t.cells.map((c) => (c.ratio === undefined ? `n/a (${c.missing})` : `${c.ratio.toFixed(2)}× ${c.met ? '✓' : '✗'}${c.ceiling === undefined ? '' : ` (${ceilingText(t, c, rows)})`}`)),
    `**${t.verdict}**`,
  ]);
  const out = [
    '## Targets',
    '',
    'Throughput ratios are portico ÷ peer, medians from the same run at the same worker and connection counts; the p99 row is portico\'s p99 ÷ uWSGI\'s (lower is better). A target is met when it is met in every cell. Where a target names a ceiling, the cell also gives the ratio bare Node reaches in portico\'s place, answering from memory with nothing behind it (for the HTTPS target, bare Node https ÷ bare Node http): what Node\'s own https or http2 allows.',
    '',
    table(['Target', ...cells.map(([w, c]) => `${w} w · ${c} c`), 'Verdict'], body),
    '',
    uwsgiNote(results),
    table(['Target', 'Measured', 'Verdict'], ideals.map((t) => [t.text, t.cells.map(idealText).join('; '), `**${t.verdict}**`])),
    '',
    ...(own.length
      ? [
          'WebSocket targets (issue #14), in their workloads\' own cells: round trips portico ÷ uvicorn (higher is better), memory per idle connection portico ÷ uvicorn (lower is better).',
          '',
          table(['Target', 'Measured', 'Verdict'], own.map((t) => [t.text, ownCellsText(t, rows), `**${t.verdict}**`])),
          '',
        ]
      : []),
    table(['Memory target', 'Measured', 'Verdict'], memory.map((t) => [t.text, t.measured, `**${t.verdict}**`])),
    '',
    table(['Streaming target', 'Measured', 'Verdict'], streams.map((t) => [t.text, t.measured, `**${t.verdict}**`])),
    '',
  ];
  return { text: out.join('\n'), ratios: allRatios, ideals, memory, streams };
}

function machineSection(results) {
  const m = results.machine;
  const packages = Object.entries(m.packages).map(([name, version]) => `${name} ${version}`).join(', ');
  return [
    '## Machine',
    '',
    `- CPU: ${m.cpu}, ${m.cores} cores; ${m.memoryGiB} GiB memory`,
    `- OS: ${m.os}, Linux ${m.kernel}`,
    `- portico ${m.portico ?? 'unknown'} (the built dist/, copied aside at the start of the run)`,
    `- Node ${m.node}; ${m.python} (Debian's, /usr/bin/python3, for every server); Flask ${m.flask}; Django ${m.django}; ${m.wrk}`,
    `- Debian packages: ${packages}`,
    `- Load average when the run started: ${m.loadAverage}. The machine was shared with other work while it ran, so single numbers are noisy; every figure is a median.`,
    '',
  ].join('\n');
}

/** How each server's process count is matched to portico's -w N, for the servers that ran. */
function workersLine(ran) {
  const asgi = ran.has('uvicorn') || ran.has('uvicorn-h11') || ran.has('hypercorn') || ran.has('gunicorn-uvicorn');
  const parts = [
    `- Every server gets the same worker process count: portico \`-w N\`, gunicorn \`-w N\`${ran.has('gunicorn-uvicorn') ? ' (sync, gthread, or `-k uvicorn.workers.UvicornWorker`)' : ''}, uWSGI \`--processes N\`, mod_wsgi \`processes=N threads=1\`, fcgiwrap \`-c N\`${asgi ? ', uvicorn `--workers N`, Hypercorn `--workers N`' : ''}.`,
    ran.has('daphne')
      ? 'waitress is one process with 4 threads whatever N is, and Daphne one Twisted process, so they only run in the 1-worker cells;'
      : 'waitress is one process with 4 threads whatever N is, so it only runs in the 1-worker cells;',
    ran.has('nginx-uwsgi') || ran.has('nginx-gunicorn')
      ? 'bare Node http is one process; nginx has one worker, also in front of uWSGI and gunicorn, whose N workers listen on a UNIX socket; Apache mod_cgid forks one process per request.'
      : 'bare Node http is one process; nginx has one worker; Apache mod_cgid forks one process per request.',
  ];
  if (ran.has('portico') && asgi) parts.push('The 1,000-connection ASGI workload runs at 1 worker only.');
  return parts.join(' ');
}

/** The peer settings changed from their defaults, for the servers that ran. */
function settingsLine(ran) {
  const changed = ['uWSGI `--listen 1024`', 'waitress `--connection-limit=1024 --backlog=1024`', 'mod_wsgi `listen-backlog=1024`', 'Apache with enough event-MPM threads for 256 connections'];
  if (ran.has('hypercorn')) changed.push('Hypercorn `--backlog 2048` (its default is 100)');
  if (ran.has('daphne')) changed.push('Daphne\'s endpoint `backlog=2048` (its default is 50)');
  const asgi = ran.has('hypercorn') || ran.has('daphne');
  return [
    `- Peer settings changed from their defaults only where the default would refuse the load (256 connections${asgi ? '; 1,000 for the ASGI awaits' : ''}): ${changed.join(', ')}${asgi ? '; 2048 is uvicorn\'s, gunicorn\'s and portico\'s default' : ''}.`,
    ran.has('hypercorn')
      ? 'gunicorn\'s sync worker closes the connection after every response (with `Connection: close`); uWSGI\'s `--http-socket` closes it too, but without saying so, and so does Debian 12\'s Hypercorn in the cells whose table says so: wrk sends its next request on the closed connection, counts a read error and reconnects. For these two servers the tables show read errors as reconnects, not errors, and req/s counts only answered requests.'
      : 'gunicorn\'s sync worker closes the connection after every response (with `Connection: close`); uWSGI\'s `--http-socket` closes it too, but without saying so, so wrk sends its next request on the closed connection, counts a read error and reconnects: the tables show uWSGI\'s read errors as reconnects, not errors, and its req/s counts only answered requests.',
  ].join(' ');
}

/** How the WebSocket cells (issue #14) are driven and measured. */
function websocketMethod(results) {
  const p = results.plan;
  return [
    `- WebSockets (issue #14): wrk cannot drive them, so \`bench/ws-client.mjs\` does, a Node process of its own (one thread, as wrk has ${p.wrkThreads} here), so that its CPU is never counted as the server's; it is in the machine column and has a column of its own. For the timed cells it speaks the wire itself after an ordinary handshake (\`bench/ws-wire.mjs\`: each connection's masked frames built once, the server's frames checked by opcode, length and, for the echo, bytes, without a full decode), so that its own CPU on the shared cores stays small for every server; the idle cell opens its connections with the \`ws\` package. It opens every connection first, then drives them all for ${p.seconds} s; a round trip or message counts if it completed before the end. It never offers permessage-deflate, so no server compresses: the cells measure the servers, not zlib. Every server runs \`bench/apps/asgi_ws.py\`, a raw ASGI app, with one worker: portico \`--interface asgi -w 1\`, uvicorn \`--ws websockets\` on uvloop and httptools, Hypercorn on wsproto (its only WebSocket library), and bare Node's \`ws\` answering the same messages with no Python behind it (\`bench/apps/bare-node.mjs ws\`: what portico's front costs at the least), each with its defaults otherwise (portico and uvicorn ping idle clients every 20 s, Hypercorn does not; no ping fell inside a run but the idle cell's).`,
    '- The 10,000 idle WebSockets: the servers and the client start under `ulimit -n 11000` (or the hard limit, if lower; the limit each server got is checked in `/proc/PID/limits`), and portico with `--worker-connections 10100`, since each open WebSocket holds one of its worker\'s 1,000 by default. After a warm-up of 200 connections opened and closed, the server\'s memory is read once it has settled (two samples 250 ms apart within 1%), the client opens the 10,000 (200 handshakes at a time), the memory is read again once settled, and the client closes them. The servers take their turns in the same rotation as the other cells, each round on freshly started servers: one that has held 10,000 connections keeps most of the memory they took, and a second round on it would measure reuse, not cost.',
  ].join('\n');
}

function methodSection(results) {
  const p = results.plan;
  const ran = peersRun(results);
  const when = (peer, line) => (ran.has(peer) ? [line] : []);
  return [
    '## Method',
    '',
    `- Mode: ${p.mode}. ${p.rounds} round${p.rounds > 1 ? 's' : ''}; each run is \`wrk -t ${p.wrkThreads}\` for ${p.seconds} s (${p.longSeconds} s for the 10 MiB echo and the CGI scripts, whose requests are slow), with \`--latency\` and a ${p.wrkTimeout} s timeout; connections ${p.connections.join(' and ')}; worker processes ${p.workers.join(' and ')}.`,
    '- For each workload and worker count, every server is started on its own loopback port, its answer is checked (status 200 and the expected body length), its idle memory is read, and each gets a warm-up run. Then, in every round and for each connection count, the servers take turns in an order rotated by one each time, so that no server gets its runs back to back. After each run (warm-ups included) the next waits until the server\'s processes are idle (under a tenth of a core over 200 ms, at most 5 s): a server still working through requests wrk had queued, such as 64 POSTs of 10 MiB, must not run into the next server\'s measurement.',
    p.peers ? `- Peers: beside portico, only those this run was given (\`--peers ${p.peers.join(',')}\`).` : `- ${p.quickPeers ? 'Peers: this quick run starts, beside portico, only the servers the targets compare it with (and uvicorn for the 100 KiB ASGI response), so that every target gets a verdict in a few minutes; `npm run bench` runs them all.' : 'Peers: every server of each workload; `npm run bench:quick` runs only those the targets name.'}`,
    workersLine(ran),
    ...when('nginx-uwsgi', '- The production peers (issue #15): nginx → uWSGI over `uwsgi_pass` (uWSGI `--socket`, its own protocol), and nginx → gunicorn\'s gthread worker over `proxy_pass` with an upstream `keepalive 64` (`proxy_http_version 1.1`, an empty `Connection` header), gthread because the sync worker closes every connection and the upstream keepalive would then keep nothing. nginx\'s settings are its defaults, response buffering included, except `client_max_body_size 16m`, without which it refuses the 10 MiB echo with a 413. Its temporary files (request bodies over 16 KiB, responses over its buffers) go to `$SCRATCH`, a tmpfs (`/dev/shm`) where there is one, as the page cache would hold them on a machine whose disk keeps up: on the shared VM where this was first run, buffering the 10 MiB echoes to disk stalled nginx in iowait and the cells measured the disk. Their configurations are under Commands.'),
    ...(results.groups.some((g) => g.workload === 'tls-handshakes')
      ? ['- TLS handshakes (issue #16): every request on a new connection with a full TLS 1.3 handshake, `openssl s_time -new -www /` from 16 clients (`bench/tls-handshakes.mjs`), so that no session is ever resumed, for either server; both use Node\'s defaults and the same EC P-256 certificate. An OpenSSL client\'s handshake costs more CPU than a server\'s, so on a small machine the clients take most of it and the rate is theirs as much as the server\'s: compare the servers\' CPU per handshake as well.']
      : []),
    ...when('uvicorn', '- The ASGI servers (issue #13) are Debian\'s: uvicorn as most users install it (`uvicorn[standard]`: `--loop uvloop --http httptools`, named so that a missing package makes the cell "not available" rather than silently pure Python), uvicorn in pure Python (`--loop asyncio --http h11`), Hypercorn (its default asyncio worker), Daphne, and gunicorn with uvicorn\'s worker class (which picks uvloop and httptools itself). portico runs the same apps with `--interface asgi`. The 1,000-connection awaits make at best 10,000 req/s; wrk\'s own work for 1,000 connections is in the machine column.'),
    ...(results.groups.some((g) => workloadById(g.workload).kind === 'websocket') ? [websocketMethod(results)] : []),
    settingsLine(ran),
    '- req/s counts only responses with a 2xx or 3xx status (wrk\'s total minus its "Non-2xx or 3xx responses"): an error answered fast is not throughput. The errors column adds those responses to wrk\'s socket errors (connect, read, write, timeout).',
    `- The 10 MiB echo and the CGI scripts are slow per request: at 256 connections a ${p.longSeconds} s run completes only a few requests per connection, so their latency percentiles are bounded by the run length. Their throughput still counts every byte wrk read, partial responses included.`,
    '- Memory: RSS and PSS (from `/proc/PID/smaps_rollup`) summed over every process of the server (the process group it was started in and all descendants, including fcgiwrap for nginx + fcgiwrap); idle after start-up, and the peak of samples taken during the runs at the highest connection count.',
    '- CPU per request: the CPU time the server\'s processes spent during a run (utime + stime from `/proc/PID/stat`, with that of the children they waited for, such as portico\'s CGI scripts; Apache\'s and fcgiwrap\'s scripts do not show there, so compare CGI servers by the machine figure), and the busy time of the whole machine (`/proc/stat`: every core, wrk and the kernel\'s network work included), each divided by the answered (2xx/3xx) requests; medians over the rounds. With every core busy, req/s is roughly the machine\'s cores ÷ machine CPU per request, so this says where a server\'s throughput goes.',
    '- Ratios: "vs portico" in the tables is the server\'s figure ÷ portico\'s (portico = 1.00×); the targets table shows portico ÷ peer.',
    '',
  ].join('\n');
}

function memorySection(results) {
  const body = [];
  for (const group of results.groups) {
    const top = Math.max(...connectionsOf(workloadById(group.workload), results.plan));
    for (const cell of group.cells) {
      if (!cell.idle) continue;
      const load = cell.load?.[top];
      body.push([
        workloadById(group.workload).title,
        cell.peer === 'portico' ? `**${cell.label}**` : cell.label,
        group.workers,
        cell.idle.count,
        mib(cell.idle.rss),
        mib(cell.idle.pss),
        load ? `${load.count}` : '–',
        load ? mib(load.rss) : '–',
        load ? mib(load.pss) : '–',
      ]);
    }
  }
  const out = [
    '## Memory',
    '',
    `MiB, whole process tree. "Load" is the peak sample during the runs at the workload's highest connection count (${Math.max(...results.plan.connections)}; 1,000 for the ASGI awaits).`,
    '',
    table(['Workload', 'Server', 'Workers', 'Procs idle', 'Idle RSS', 'Idle PSS', 'Procs load', 'Load RSS', 'Load PSS'], body),
    '',
    '### portico\'s processes, idle, against a bare interpreter',
    '',
    'The front is the Node process; each worker is one Debian Python process. "Bare python" imports the same app and then sleeps.',
    '',
  ];
  const rows = [];
  const oneWorker = Math.min(...results.plan.workers);
  for (const baseline of results.baselines ?? []) {
    const group = results.groups.find((g) => g.workload === (baseline.workload ?? baseline.app) && g.workers === oneWorker);
    const cell = group?.cells.find((c) => c.peer === 'portico' && c.idle);
    if (!cell) continue;
    const front = cell.idle.processes.find((p) => p.pid === cell.leaderPid);
    const workers = cell.idle.processes.filter((p) => p.pid !== cell.leaderPid);
    for (const worker of workers) {
      rows.push([baseline.app, mib(front.rss), mib(front.pss), mib(worker.rss), mib(worker.pss), mib(baseline.rss), mib(baseline.pss), `${(worker.rss / baseline.rss).toFixed(2)}×`]);
    }
  }
  out.push(table(['App', 'Front RSS', 'Front PSS', 'Worker RSS', 'Worker PSS', 'Bare python RSS', 'Bare python PSS', 'Worker ÷ bare (RSS)'], rows), '');
  if (results.streams?.length) {
    out.push(`### ${formatBytes(results.plan.streamBytes)} upload and download`, '');
    out.push(`curl streams ${formatBytes(results.plan.streamBytes)} up (a POST read in 256 KiB chunks and counted) and down (a generator of 256 KiB chunks) through the server, \`bench/apps/stream.py\`, while the memory of its process tree is sampled every 100 ms.`, '');
    const streamRows = [];
    for (const s of results.streams) {
      if (s.error) {
        streamRows.push([s.label, s.workers, 'error', s.error, '', '', '']);
        continue;
      }
      for (const t of [s.upload, s.download]) {
        const speed = t.ok ? `${formatNumber(results.plan.streamBytes / t.seconds / MiB)} MiB/s` : `failed: ${t.output}`;
        streamRows.push([s.peer === 'portico' ? `**${s.label}**` : s.label, s.workers, t.label, speed, mib(s.idle.rss), mib(t.peak.rss), mib(t.peak.pss)]);
      }
    }
    out.push(table(['Server', 'Workers', 'Direction', 'Speed', 'Idle RSS', 'Peak RSS', 'Peak PSS'], streamRows), '');
    const commands = results.streams.filter((s) => !s.error).flatMap((s) => [...s.commands, s.upload.command, s.download.command]);
    if (commands.length) out.push('```sh', ...commands, '```', '');
  }
  return out.join('\n');
}

function commandsSection(results) {
  const p = results.plan;
  const out = ['## Commands', '', 'Ports and the scratch directories (`$WORK`, created by `bench/workdir.mjs` with the apps, the CGI scripts, the static file and the Django project, and `$SCRATCH` for nginx\'s temporary files) change from run to run.', ''];
  out.push('wrk, per run:', '', '```sh');
  for (const workload of workloads.filter((w) => results.groups.some((g) => g.workload === w.id))) {
    out.push(`# ${workload.title}`);
    if (workload.kind === 'websocket') {
      const argv = wsClientArgv({ url: `ws://127.0.0.1:$PORT${workload.wsPath}`, mode: workload.mode, connections: connectionsOf(workload, p).join(','), seconds: p.seconds, timeoutSeconds: p.wrkTimeout });
      out.push(`${workload.files ? `ulimit -n ${workload.files}; ` : ''}node bench/ws-client.mjs ${argv.slice(2).join(' ')}`);
      continue;
    }
    out.push(wrkArgv({ url: `http://127.0.0.1:$PORT${workload.path}`, connections: workload.connections ? connectionsOf(workload, p).join(',') : '$CONNS', seconds: workload.long ? p.longSeconds : p.seconds, threads: p.wrkThreads, timeoutSeconds: p.wrkTimeout, script: workload.script ? `bench/wrk/${basename(workload.script)}` : undefined }).join(' '));
  }
  out.push('```', '');
  const seenConfigs = new Set();
  // Each workload's group at its highest worker count.
  const shown = new Map();
  for (const group of results.groups) {
    if ((shown.get(group.workload)?.workers ?? 0) < group.workers) shown.set(group.workload, group);
  }
  for (const group of shown.values()) {
    out.push(`${workloadById(group.workload).title}, ${group.workers} worker${group.workers > 1 ? 's' : ''}:`, '', '```sh');
    for (const cell of group.cells) {
      for (const command of cell.commands ?? []) out.push(command);
      if (!cell.commands) out.push(`# ${cell.label}: ${cell.status}${cell.reason ? ` (${cell.reason})` : ''}`);
    }
    out.push('```', '');
    for (const cell of group.cells) {
      for (const file of cell.configFiles ?? []) {
        const key = `${cell.peer}-${file.name}-${group.workload === 'cgi-shell' || group.workload === 'cgi-python' ? 'cgi' : 'x'}`;
        if (seenConfigs.has(key)) continue;
        seenConfigs.add(key);
        out.push(`<details><summary>${cell.label}: ${file.name} (as written for ${workloadById(group.workload).title})</summary>`, '', file.name.startsWith('nginx') ? '```nginx' : '```apache', file.text.trim(), '```', '', '</details>', '');
      }
    }
  }
  return out.join('\n');
}

/**
 * The raw results without what the page never reads: each run's wrk argv
 * (the page prints the command lines once) and the per-process memory of
 * the peers (only portico's front and workers are shown one by one).
 */
function slim(results) {
  const copy = structuredClone(results);
  for (const group of copy.groups) {
    for (const cell of group.cells) {
      for (const run of cell.runs) delete run.argv;
      if (cell.peer === 'portico') continue;
      for (const run of cell.runs) {
        delete run.cpu?.processes;
        delete run.before?.processes;
        delete run.held?.processes;
      }
      if (cell.idle) delete cell.idle.processes;
      for (const load of Object.values(cell.load ?? {})) delete load.processes;
    }
  }
  for (const stream of copy.streams ?? []) {
    for (const t of [stream.upload, stream.download]) if (t?.peak) delete t.peak.processes;
  }
  return copy;
}

/**
 * Sections measured by other tools, kept beside the generated page so that a
 * new run does not lose them: scripts/soak.mjs writes soak.md; analysis.md
 * and preload.md are written by hand from their measurements.
 */
const FRAGMENTS = ['analysis', 'preload', 'soak'];

function fragment(assets, name) {
  try {
    return readFileSync(join(assets, `${name}.md`), 'utf8').trimEnd() + '\n';
  } catch {
    return '';
  }
}

/**
 * The results with this machine's paths replaced by what a reader can use:
 * the scratch directory by `$WORK`, the repository by `.` (the commands are
 * run from its root).
 */
function withoutMachinePaths(results) {
  const repository = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');
  let text = JSON.stringify(results);
  if (results.workdir) text = text.split(results.workdir).join('$WORK');
  if (results.scratch) text = text.split(results.scratch).join('$SCRATCH');
  return JSON.parse(text.split(repository).join('.'));
}

/** Writes benchmarks.md, benchmarks/*.svg and benchmarks/results.json under outDir. */
export function writeReport(rawResults, outDir) {
  const results = withoutMachinePaths(rawResults);
  const rows = summarize(results);
  const assets = join(outDir, 'benchmarks');
  mkdirSync(assets, { recursive: true });
  writeFileSync(join(assets, 'results.json'), JSON.stringify(slim(results)));
  const present = workloads.filter((w) => results.groups.some((g) => g.workload === w.id));
  for (const workload of present) {
    writeFileSync(join(assets, `${workload.id}.svg`), chartFor(results, rows, workload));
  }
  const targets = targetsSection(results, rows);
  const minutes = ((results.finishedAt - results.startedAt) / 60000).toFixed(1);
  const page = [
    '# Benchmarks',
    '',
    `<!-- Generated by bench/run.mjs; do not edit. Rebuild from the raw numbers with: node bench/report.mjs docs/benchmarks/results.json -->`,
    '',
    `portico against the usual ways of serving the same Python WSGI${present.some((w) => w.kind === 'asgi' || w.kind === 'websocket') ? ' and ASGI' : ''} apps${present.some((w) => w.kind === 'websocket') ? ' (WebSockets included)' : ''}, CGI scripts and static file, on one machine, on loopback. Run with \`npm run bench\` (\`bench/run.mjs\`, ${results.plan.mode} mode, ${new Date(results.startedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${minutes} minutes).`,
    '',
    targets.text,
    machineSection(results),
    methodSection(results),
    '## Results',
    '',
    ...present.map((w) => workloadSection(results, rows, w, `benchmarks/${w.id}.svg`)),
    memorySection(results),
    ...FRAGMENTS.map((name) => fragment(assets, name)),
    commandsSection(results),
  ].join('\n');
  writeFileSync(join(outDir, 'benchmarks.md'), page);
  return { page: join(outDir, 'benchmarks.md'), rows, targets };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const input = process.argv[2] ?? 'docs/benchmarks/results.json';
  const results = JSON.parse(readFileSync(input, 'utf8'));
  const { page } = writeReport(results, process.argv[3] ?? dirname(dirname(input)));
  console.log(`wrote ${page}`);
}
