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
import { METRICS, workloads } from './workloads.mjs';
import { wrkArgv } from './wrk.mjs';

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

function unavailable(row) {
  return row.status === 'not available' ? `not available: ${row.reason}` : `${row.status}: ${row.reason ?? ''}`;
}

function workloadSection(results, rows, workload, chartPath) {
  const metric = METRICS[workload.metric];
  const out = [`### ${workload.title}`, '', `Requests: \`${workload.script ? 'POST' : 'GET'} ${workload.path}\`${workload.script ? ' with a 10 MiB body' : ''}.`, ''];
  out.push(`![${workload.title}](${chartPath})`, '');
  const body = [];
  for (const workers of results.plan.workers) {
    for (const connections of results.plan.connections) {
      for (const row of rows.filter((r) => r.workload === workload.id && r.workers === workers && r.connections === connections)) {
        const label = row.peer === 'portico' ? `**${row.label}**` : row.label;
        if (row.value === undefined) {
          body.push([label, workers, connections, unavailable(row), '', '', '', '', '', '']);
          continue;
        }
        const rate = workload.metric === 'rps' ? formatNumber(row.value) : `${formatNumber(row.value)} (${formatNumber(row.rps)} req/s)`;
        const relative = row.relative === undefined ? '–' : `${row.relative.toFixed(2)}×`;
        body.push([label, workers, connections, rate, relative, ms(row.p50), ms(row.p99), Math.round(row.errors).toLocaleString('en-US'), cpuTime(row.serverCpu), cpuTime(row.machineCpu)]);
      }
    }
  }
  out.push(table(['Server', 'Workers', 'Conns', metric.label, 'vs portico', 'p50', 'p99', 'errors', 'server CPU/req', 'machine CPU/req'], body), '');
  return out.join('\n');
}

function chartFor(results, rows, workload) {
  const metric = METRICS[workload.metric];
  const panels = [];
  for (const workers of results.plan.workers) {
    for (const connections of results.plan.connections) {
      const bars = rows
        .filter((r) => r.workload === workload.id && r.workers === workers && r.connections === connections)
        .map((r) => ({ label: r.label, value: r.value, relative: r.relative, highlight: r.peer === 'portico', note: r.status }));
      if (bars.length) panels.push({ title: cellName(workers, connections), bars });
    }
  }
  return barChart({ title: `${workload.title}: ${metric.label}, median of ${results.plan.rounds} round${results.plan.rounds > 1 ? 's' : ''} (higher is better)`, unit: metric.label, panels });
}

function targetsSection(results, rows) {
  const { ratios, memory } = evaluateTargets(results, rows);
  const cells = results.plan.workers.flatMap((w) => results.plan.connections.map((c) => [w, c]));
  const body = ratios.map((t) => [
    t.text,
    ...t.cells.map((c) => (c.ratio === undefined ? `n/a (${c.missing})` : `${c.ratio.toFixed(2)}× ${c.met ? '✓' : '✗'}`)),
    `**${t.verdict}**`,
  ]);
  const out = [
    '## Targets',
    '',
    'Throughput ratios are portico ÷ peer, medians from the same run at the same worker and connection counts; the p99 row is portico\'s p99 ÷ uWSGI\'s (lower is better). A target is met when it is met in every cell.',
    '',
    table(['Target', ...cells.map(([w, c]) => `${w} w · ${c} c`), 'Verdict'], body),
    '',
    table(['Memory target', 'Measured', 'Verdict'], memory.map((t) => [t.text, t.measured, `**${t.verdict}**`])),
    '',
  ];
  return { text: out.join('\n'), ratios, memory };
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

function methodSection(results) {
  const p = results.plan;
  return [
    '## Method',
    '',
    `- Mode: ${p.mode}. ${p.rounds} round${p.rounds > 1 ? 's' : ''}; each run is \`wrk -t ${p.wrkThreads}\` for ${p.seconds} s (${p.longSeconds} s for the 10 MiB echo and the CGI scripts, whose requests are slow), with \`--latency\` and a ${p.wrkTimeout} s timeout; connections ${p.connections.join(' and ')}; worker processes ${p.workers.join(' and ')}.`,
    '- For each workload and worker count, every server is started on its own loopback port, its answer is checked (status 200 and the expected body length), its idle memory is read, and each gets a warm-up run. Then, in every round and for each connection count, the servers take turns in an order rotated by one each time, so that no server gets its runs back to back.',
    '- Every server gets the same worker process count: portico `-w N`, gunicorn `-w N`, uWSGI `--processes N`, mod_wsgi `processes=N threads=1`, fcgiwrap `-c N`. waitress is one process with 4 threads whatever N is, so it only runs in the 1-worker cells; bare Node http is one process; nginx has one worker; Apache mod_cgid forks one process per request.',
    '- Peer settings changed from their defaults only where the default would refuse the 256-connection load: uWSGI `--listen 1024`, waitress `--connection-limit=1024 --backlog=1024`, mod_wsgi `listen-backlog=1024`, Apache with enough event-MPM threads for 256 connections. gunicorn\'s sync worker closes the connection after every response (with `Connection: close`); uWSGI\'s `--http-socket` closes it too, but without saying so, so wrk sends its next request on the closed connection, counts a read error and reconnects: uWSGI\'s error counts are that, and its req/s counts only answered requests.',
    '- req/s counts only responses with a 2xx or 3xx status (wrk\'s total minus its "Non-2xx or 3xx responses"): an error answered fast is not throughput. The errors column adds those responses to wrk\'s socket errors (connect, read, write, timeout).',
    `- The 10 MiB echo and the CGI scripts are slow per request: at 256 connections a ${p.longSeconds} s run completes only a few requests per connection, so their latency percentiles are bounded by the run length. Their throughput still counts every byte wrk read, partial responses included.`,
    '- Memory: RSS and PSS (from `/proc/PID/smaps_rollup`) summed over every process of the server (the process group it was started in and all descendants, including fcgiwrap for nginx + fcgiwrap); idle after start-up, and the peak of samples taken during the runs at the highest connection count.',
    '- CPU per request: the CPU time the server\'s processes spent during a run (utime + stime from `/proc/PID/stat`, with that of the children they waited for, such as portico\'s CGI scripts; Apache\'s and fcgiwrap\'s scripts do not show there, so compare CGI servers by the machine figure), and the busy time of the whole machine (`/proc/stat`: every core, wrk and the kernel\'s network work included), each divided by the answered (2xx/3xx) requests; medians over the rounds. With every core busy, req/s is roughly the machine\'s cores ÷ machine CPU per request, so this says where a server\'s throughput goes.',
    '- Ratios: "vs portico" in the tables is the server\'s figure ÷ portico\'s (portico = 1.00×); the targets table shows portico ÷ peer.',
    '',
  ].join('\n');
}

function memorySection(results) {
  const top = Math.max(...results.plan.connections);
  const body = [];
  for (const group of results.groups) {
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
    `MiB, whole process tree. "Load" is the peak sample during the ${top}-connection runs.`,
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
    const group = results.groups.find((g) => g.workload === baseline.app && g.workers === oneWorker);
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
  const out = ['## Commands', '', 'Ports and the scratch directory (`$WORK`, created by `bench/workdir.mjs` with the apps, the CGI scripts, the static file and the Django project) change from run to run.', ''];
  out.push('wrk, per run:', '', '```sh');
  for (const workload of workloads) {
    out.push(`# ${workload.title}`);
    out.push(wrkArgv({ url: `http://127.0.0.1:$PORT${workload.path}`, connections: '$CONNS', seconds: workload.long ? p.longSeconds : p.seconds, threads: p.wrkThreads, timeoutSeconds: p.wrkTimeout, script: workload.script ? `bench/wrk/${basename(workload.script)}` : undefined }).join(' '));
  }
  out.push('```', '');
  const maxWorkers = Math.max(...p.workers);
  const seenConfigs = new Set();
  for (const group of results.groups.filter((g) => g.workers === maxWorkers)) {
    out.push(`${workloadById(group.workload).title}, ${maxWorkers} workers:`, '', '```sh');
    for (const cell of group.cells) {
      for (const command of cell.commands ?? []) out.push(command);
      if (!cell.commands) out.push(`# ${cell.label}: ${cell.status}${cell.reason ? ` (${cell.reason})` : ''}`);
    }
    out.push('```', '');
    for (const cell of group.cells) {
      for (const file of cell.configFiles ?? []) {
        const key = `${cell.peer}-${group.workload === 'cgi-shell' || group.workload === 'cgi-python' ? 'cgi' : 'x'}`;
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
    `portico against the usual ways of serving the same Python WSGI apps, CGI scripts and static file, on one machine, on loopback. Run with \`npm run bench\` (\`bench/run.mjs\`, ${results.plan.mode} mode, ${new Date(results.startedAt).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${minutes} minutes).`,
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
