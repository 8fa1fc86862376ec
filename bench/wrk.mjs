// Runs wrk and reads its report. wrk prints sizes with binary prefixes
// (its "MB" is 2^20 bytes) and latencies in us, ms, s or m.
import { spawn } from 'node:child_process';

const SIZE = { B: 1, KB: 2 ** 10, MB: 2 ** 20, GB: 2 ** 30, TB: 2 ** 40 };
const TIME = { us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

function size(text) {
  const match = /^([\d.]+)([KMGT]?B)$/.exec(text);
  if (!match) throw new Error(`not a wrk size: ${text}`);
  return Number(match[1]) * SIZE[match[2]];
}

function duration(text) {
  const match = /^([\d.]+)(us|ms|s|m|h)$/.exec(text);
  if (!match) throw new Error(`not a wrk duration: ${text}`);
  return Number(match[1]) * TIME[match[2]];
}

/** The numbers of one wrk run; latencies in seconds, sizes in bytes. */
export function parseWrk(text) {
  const total = /(\d+) requests in ([\d.]+\w+), ([\d.]+\w?B) read/.exec(text);
  if (!total) throw new Error(`wrk printed no summary:\n${text}`);
  const result = {
    requests: Number(total[1]),
    seconds: duration(total[2]),
    bytesRead: size(total[3]),
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? 0),
    latency: {},
    errors: { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx: 0,
  };
  for (const [, pct, value] of text.matchAll(/^\s+(50|75|90|99)%\s+([\d.]+\w+)\s*$/gm)) {
    result.latency[`p${pct}`] = duration(value);
  }
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  if (errors) {
    result.errors = { connect: +errors[1], read: +errors[2], write: +errors[3], timeout: +errors[4] };
  }
  result.non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  return result;
}

/** The wrk command line for one cell. */
export function wrkArgv({ url, connections, seconds, threads, timeoutSeconds, script }) {
  const argv = ['wrk', '-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--latency', '--timeout', `${timeoutSeconds}s`];
  if (script) argv.push('-s', script);
  argv.push(url);
  return argv;
}

/** Runs wrk to completion; resolves with the parsed report and the raw text. */
export function runWrk(options) {
  const argv = wrkArgv(options);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${code}:\n${out}`));
      try {
        resolve({ ...parseWrk(out), argv, raw: out });
      } catch (error) {
        reject(error);
      }
    });
  });
}
