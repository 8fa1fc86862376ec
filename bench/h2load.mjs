// Runs h2load (Debian's nghttp2-client) for the HTTP/2 cells and reads its
// report into the shape wrk.mjs gives: h2load keeps -m streams open on each
// of -c connections, which wrk (HTTP/1.1 only) cannot.
import { spawn } from 'node:child_process';

const SIZE = { B: 1, KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30 };
const TIME = { us: 1e-6, ms: 1e-3, s: 1 };

/** The numbers of one h2load run; h2load gives no percentiles, so latency has none. */
export function parseH2load(text) {
  const finished = /finished in ([\d.]+)(us|ms|s), ([\d.]+) req\/s/.exec(text);
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(text);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(text);
  const traffic = /traffic: ([\d.]+)([KMG]?B) \((\d+)\) total/.exec(text);
  if (!finished || !requests || !codes || !traffic) throw new Error(`h2load printed no summary:\n${text}`);
  // Responses, by status class: what wrk counts as requests, and its non-2xx/3xx.
  const failed = Number(codes[3]) + Number(codes[4]);
  return {
    requests: Number(codes[1]) + Number(codes[2]) + failed,
    seconds: Number(finished[1]) * TIME[finished[2]],
    bytesRead: Number(traffic[3]) || Number(traffic[1]) * SIZE[traffic[2]],
    rps: Number(finished[3]),
    latency: {},
    errors: { connect: 0, read: Number(requests[6]), write: 0, timeout: Number(requests[7]) },
    non2xx: failed,
  };
}

/** The h2load command line for one cell: `connections` clients, `streams` open on each, for `seconds`. */
export function h2loadArgv({ url, connections, streams, seconds, threads }) {
  return ['h2load', '-c', String(connections), '-m', String(streams), '-t', String(Math.min(threads, connections)), '-D', String(seconds), url];
}

/** Runs h2load to completion, or kills it `timeoutSeconds` past its duration: h2load has no timeout of its own by default. */
export function runH2load(options) {
  const argv = h2loadArgv(options);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const limit = setTimeout(() => child.kill('SIGKILL'), (options.seconds + (options.timeoutSeconds ?? 30)) * 1000);
    child.on('close', () => clearTimeout(limit));
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`h2load exited ${code}:\n${out}`));
      try {
        resolve({ ...parseH2load(out), argv, raw: out });
      } catch (error) {
        reject(error);
      }
    });
  });
}
