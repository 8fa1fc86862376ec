#!/usr/bin/env node
// Endurance run, loopback only, bounded in time:
//
//   node scripts/soak.mjs [--idle 1000] [--slow 1000] [--seconds 10] [--rounds 5]
//                         [--note TEXT] [--print-only]
//
// Starts portico (2 workers, default --headers-timeout 10) on the conformance
// echo app and measures its throughput with wrk in interleaved rounds:
// a baseline run with nothing else connected, then a run while IDLE idle
// keep-alive and SLOW slowloris connections are held, ROUNDS times over, and
// reports the medians. The slowloris connections are cut by the server (408)
// one headers timeout after they open; each is counted and reopened at once,
// and they are first opened spread over one headers timeout, so the cuts come
// at a steady rate and about SLOW are held for the whole measurement.
// --keep-alive is set above the length of a held phase, so idle connections
// stay idle; any the server closes anyway are counted and reopened too.
//
// Writes the figures to docs/benchmarks/soak.md (which bench/report.mjs
// includes in docs/benchmarks.md) unless --print-only; --note adds a sentence
// about the machine. Needs `npx tsc -p .` first and wrk on PATH.
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs, promisify } from 'node:util';

const HEADERS_TIMEOUT_S = 10;
const WRK = ['-t2', '-c32', '--timeout', '5s', '--latency'];
// Before each held measurement, after every connection is open: the first cuts have begun.
const SETTLE_MS = 2_000;

const { values: opts } = parseArgs({
  options: {
    idle: { type: 'string', default: '1000' },
    slow: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
    note: { type: 'string' },
    'print-only': { type: 'boolean', default: false },
  },
});
const idle = Number(opts.idle);
const slow = Number(opts.slow);
const seconds = Number(opts.seconds);
const rounds = Number(opts.rounds);
for (const [name, value] of Object.entries({ idle, slow, seconds, rounds })) {
  if (!Number.isInteger(value) || value < (name === 'idle' || name === 'slow' ? 0 : 1)) fail(`--${name} must be a whole number, got ${opts[name]}`);
}

function fail(message) {
  console.error(`soak: ${message}`);
  process.exit(1);
}

// ---- File descriptors -------------------------------------------------------
// This process holds IDLE + SLOW sockets and portico's front as many again
// (plus wrk's, its workers' pipes and its own files). Node cannot call
// setrlimit, but raises its own soft limit to the hard one as it starts, and
// portico and wrk inherit that; so the hard limit is what has to be enough.
const fdsNeeded = idle + slow + 256;
const limit = (flag) => {
  const text = execFileSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).trim();
  return text === 'unlimited' ? Infinity : Number(text);
};
if (limit('-Sn') < fdsNeeded) {
  fail(`the open-file limit is ${limit('-Sn')} (hard limit ${limit('-Hn')}), but ${idle} + ${slow} held connections need at least ${fdsNeeded} in this process and in portico's. Raise the hard limit (limits.conf, or \`ulimit -Hn\` as root) or hold fewer connections; no figures were written.`);
}
try {
  execFileSync('wrk', ['--version'], { stdio: 'ignore' });
} catch (error) {
  // wrk --version exits 1 after printing its version; only a missing binary matters.
  if (error.code === 'ENOENT') fail('wrk is not on PATH (apt-get install wrk)');
}

const { startEchoServer } = await import('../dist/test/conformance/conformance-server.js');
const { holdConnections, openFds, median, IDLE_PATH, SLOWLORIS_PATH } = await import('../dist/test/http/soak.js');

// A held phase: open everything (spread over one headers timeout), settle, measure.
const heldPhaseS = HEADERS_TIMEOUT_S + SETTLE_MS / 1000 + seconds + 10;
const keepAliveS = heldPhaseS + 30;
// Every phase is bounded; this bounds the whole run should one of them hang.
let server;
const budgetMs = (2 + rounds * (seconds + heldPhaseS + 10)) * 1000 * 2;
const watchdog = setTimeout(() => {
  console.error(`soak: gave up after ${budgetMs / 1000} s`);
  server?.portico.process.kill('SIGKILL');
  process.exit(1);
}, budgetMs);
watchdog.unref();

const run = promisify(execFile);

async function wrk(url, durationS) {
  const { stdout } = await run('wrk', [...WRK, `-d${durationS}s`, url], { encoding: 'utf8', timeout: (durationS + 30) * 1000 });
  const pick = (re) => stdout.match(re)?.[1];
  const ms = (text) => (text === undefined ? NaN : Number.parseFloat(text) * ({ us: 0.001, ms: 1, s: 1000 }[text.replace(/[\d.]+/, '')] ?? NaN));
  return {
    rps: Number(pick(/Requests\/sec:\s+([\d.]+)/)),
    p50: ms(pick(/^\s+50%\s+(\S+)/m)),
    p99: ms(pick(/^\s+99%\s+(\S+)/m)),
    errors: [pick(/(Socket errors:[^\n]*)/), pick(/(Non-2xx or 3xx responses:[^\n]*)/)].filter(Boolean).join('; '),
  };
}

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

const baseline = [];
const held = [];
const heldSamples = [];
const totals = { slowCut: 0, slowCut408: 0, slowCutClean: 0, slowReopened: 0, idleCut: 0, idleReopened: 0, openErrors: 0, unexpected: 0 };
const measuredCuts = { slow: 0, idle: 0 };
const life = { min: Infinity, max: 0 };
const fds = { before: 0, max: 0, leftAfter: 0 };
const unexpectedSamples = [];
const started = new Date();
const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');

try {
  server = await startEchoServer(['--workers', '2', '--headers-timeout', String(HEADERS_TIMEOUT_S), '--keep-alive', String(keepAliveS)]);
  const { port, url, pid } = server.portico;
  const target = `${url}/bench`;
  console.log(`portico on ${url}, pid ${pid}; --headers-timeout ${HEADERS_TIMEOUT_S} --keep-alive ${keepAliveS}; ${rounds} rounds of ${seconds} s`);
  // Counted before the warm-up: wrk's connections take a moment to close on the server's side.
  fds.before = openFds(pid);
  await wrk(target, 2); // warm-up, not counted

  for (let round = 1; round <= rounds; round++) {
    const base = await wrk(target, seconds);
    baseline.push(base);
    console.log(`round ${round} baseline: ${base.rps} req/s, p50 ${base.p50} ms, p99 ${base.p99} ms${base.errors ? `, ${base.errors}` : ''}`);

    const opening = Date.now();
    const hold = holdConnections({ port, idle, slow, spreadMs: HEADERS_TIMEOUT_S * 1000 });
    try {
      await hold.ready;
      const openedMs = Date.now() - opening;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const before = hold.tally();
      const cpuBefore = cpuMs();
      const counts = [];
      const sampler = setInterval(() => {
        counts.push(hold.held());
        fds.max = Math.max(fds.max, openFds(pid));
      }, 250);
      // wrk runs asynchronously, so this process keeps trickling and reopening meanwhile.
      const result = await wrk(target, seconds);
      clearInterval(sampler);
      const after = hold.tally();
      result.holderCpu = (cpuMs() - cpuBefore) / (seconds * 1000);
      result.cut = { slow: after.slowCut - before.slowCut, idle: after.idleCut - before.idleCut };
      held.push(result);
      measuredCuts.slow += result.cut.slow;
      measuredCuts.idle += result.cut.idle;
      heldSamples.push(...counts);
      console.log(
        `round ${round} held:     ${result.rps} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms${result.errors ? `, ${result.errors}` : ''}; ` +
          `opened in ${openedMs} ms; held idle min ${Math.min(...counts.map((c) => c.idle))}, slowloris min ${Math.min(...counts.map((c) => c.slow))}; ` +
          `cut while measuring: ${result.cut.slow} slowloris, ${result.cut.idle} idle; this process's CPU ${(result.holderCpu * 100).toFixed(0)}%`,
      );
      for (const key of Object.keys(totals)) totals[key] += after[key];
      life.min = Math.min(life.min, after.slowLifeMs.min);
      life.max = Math.max(life.max, after.slowLifeMs.max);
      unexpectedSamples.push(...after.unexpectedSamples);
    } finally {
      hold.close();
    }
    // The server lets go of what was held before the next baseline (bounded).
    const deadline = Date.now() + 5_000;
    while (openFds(pid) > fds.before + 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    fds.leftAfter = Math.max(fds.leftAfter, openFds(pid) - fds.before);
  }

  const seen = server.seen();
  const slowSeen = seen.filter(([, uri]) => uri.startsWith(SLOWLORIS_PATH)).length;
  const idleSeen = seen.filter(([, uri]) => uri.startsWith(IDLE_PATH)).length;
  const problems = [];
  if (slowSeen > 0) problems.push(`${slowSeen} slowloris requests reached the app`);
  if (idleSeen !== rounds * idle + totals.idleReopened) problems.push(`the app saw ${idleSeen} idle-connection requests, expected ${rounds * idle + totals.idleReopened}`);
  if (totals.unexpected > 0) problems.push(`${totals.unexpected} unexpected responses or closes: ${unexpectedSamples.slice(0, 3).join(' | ')}`);
  if ([...baseline, ...held].some((r) => r.errors || !(r.rps > 0))) problems.push('wrk reported errors or no figure');
  if (fds.leftAfter > 0) problems.push(`portico kept ${fds.leftAfter} descriptors open after the held connections closed`);

  const fmt = (n, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const med = (runs, key) => median(runs.map((r) => r[key]));
  const list = (runs, key, digits = 0) => runs.map((r) => fmt(r[key], digits)).join(', ');
  const idleCounts = heldSamples.map((c) => c.idle);
  const slowCounts = heldSamples.map((c) => c.slow);
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`;
  const lines = [
    '## Endurance: idle and slowloris connections',
    '',
    `\`node scripts/soak.mjs --idle ${idle} --slow ${slow} --seconds ${seconds} --rounds ${rounds}\`, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, on ${machine} (load average ${loadBefore} before the run, ${loadavg().map((l) => l.toFixed(2)).join(' ')} after).${opts.note ? ` ${opts.note}` : ''}`,
    '',
    `portico runs the conformance echo app (which also appends each request to a log file, so that the soak can tell which requests reached it) with 2 workers, \`--headers-timeout ${HEADERS_TIMEOUT_S}\` (the default) and \`--keep-alive ${keepAliveS}\`, above the length of a held phase, so that idle connections stay idle. ` +
      `wrk (\`${WRK.join(' ')} -d${seconds}s\`, loopback) measures GET /bench in ${rounds} interleaved rounds: a baseline with nothing else connected, then the same run while ${idle} idle keep-alive connections (one request answered, then silence) and ${slow} slowloris connections (a request head sent a byte every 500 ms, never finished) are held. ` +
      `The server cuts each slowloris connection with a 408 once its headers timeout has passed; the soak counts it and opens a new one at once. The slowloris connections are first opened spread over one headers timeout, so the cuts come at a steady rate, and each measurement starts ${SETTLE_MS / 1000} s after everything is open. wrk, portico and the process holding the connections share the machine's cores.`,
    '',
    '| | baseline | held |',
    '|---|---|---|',
    `| req/s, median | ${fmt(med(baseline, 'rps'))} | ${fmt(med(held, 'rps'))} |`,
    `| req/s, each round | ${list(baseline, 'rps')} | ${list(held, 'rps')} |`,
    `| held / baseline, each round | | ${held.map((r, i) => fmt(r.rps / baseline[i].rps, 2)).join(', ')} (median ${fmt(median(held.map((r, i) => r.rps / baseline[i].rps)), 2)}) |`,
    `| p50 latency, median (ms) | ${fmt(med(baseline, 'p50'), 2)} | ${fmt(med(held, 'p50'), 2)} |`,
    `| p99 latency, median (ms) | ${fmt(med(baseline, 'p99'), 2)} | ${fmt(med(held, 'p99'), 2)} |`,
    `| wrk errors | ${baseline.every((r) => !r.errors) ? 'none' : 'see output'} | ${held.every((r) => !r.errors) ? 'none' : 'see output'} |`,
    '',
    `- Held while measuring (sampled every 250 ms, all rounds): idle keep-alive min ${fmt(Math.min(...idleCounts))}, median ${fmt(median(idleCounts))} of ${fmt(idle)}; slowloris min ${fmt(Math.min(...slowCounts))}, median ${fmt(median(slowCounts))} of ${fmt(slow)}. ` +
      `Node checks the headers timeout once a second, so the server cuts about a tenth of the slowloris connections at a time; a minimum below ${fmt(slow)} is a sample taken while such a batch was being reopened.`,
    `- Slowloris connections cut by the server and reopened: ${fmt(measuredCuts.slow)} during the ${rounds} measurements, ${fmt(totals.slowCut)} over the held phases (${fmt(totals.slowReopened)} reopened); ${fmt(totals.slowCut408)} of them got a whole 408 with \`Connection: close\`, ${fmt(totals.slowCutClean)} then closed with a FIN rather than a reset; each lived ${fmt(life.min / 1000, 1)}–${fmt(life.max / 1000, 1)} s.`,
    `- Idle keep-alive connections closed by the server: ${fmt(totals.idleCut)} (${fmt(totals.idleReopened)} reopened).`,
    `- Slowloris requests that reached the app: ${slowSeen}. Requests from the idle connections: ${fmt(idleSeen)}, one per connection opened.`,
    `- portico's open descriptors: ${fmt(fds.before)} before, at most ${fmt(fds.max)} while holding, back to ${fds.leftAfter === 0 ? 'the same' : `+${fds.leftAfter}`} after each held phase. The holding process used ${fmt(median(held.map((r) => r.holderCpu)) * 100)}% of a core (median) while measuring.`,
    '',
  ];
  console.log(`\n${lines.join('\n')}`);
  if (problems.length > 0) {
    console.error(`soak: FAILED: ${problems.join('; ')}; no figures were written`);
    process.exitCode = 1;
  } else if (!opts['print-only']) {
    writeFileSync(new URL('../docs/benchmarks/soak.md', import.meta.url), lines.join('\n'));
    console.log('written to docs/benchmarks/soak.md; regenerate the page with `node bench/report.mjs docs/benchmarks/results.json`');
  }
} finally {
  await server?.stop();
}
