// The tls-handshakes cell's client: `connections` copies of `openssl s_time
// -new`, each opening one connection after another, each with a full
// handshake, one HTTP/1.0 GET on it, read to the server's close. Its report
// has the shape wrk.mjs gives, one "request" a handshake.
//
// Why not wrk with Connection: close: wrk keeps an SSL object per connection
// and only clears it between connections, so it offers the last session
// again, and whether that session holds a TLS 1.3 ticket depends on whether
// the ticket (sent after the handshake) was read before the close. Measured
// against bare Node https, about half of wrk's handshakes were resumptions,
// and the share moved with the server's response time: portico, answering
// through its worker, and bare Node were not measured on the same
// handshakes. s_time -new never offers a session, so both pay the same full
// handshake (certificate signature and ECDHE) each time.
import { spawn } from 'node:child_process';

/** One s_time report: its connection count and the bytes it read. */
export function parseSTime(text) {
  const summary = /(\d+) connections in [\d.]+s; [\d.]+ connections\/user sec, bytes read (\d+)/.exec(text);
  if (!summary) throw new Error(`openssl s_time printed no summary:\n${text.slice(-2000)}`);
  return { connections: Number(summary[1]), bytesRead: Number(summary[2]) };
}

/** The s_time command line for one client. */
export function sTimeArgv({ host, port, path, seconds }) {
  return ['openssl', 's_time', '-connect', `${host}:${port}`, '-new', '-www', path, '-time', String(seconds)];
}

function runOne(argv, limitMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const limit = setTimeout(() => child.kill('SIGKILL'), limitMs);
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(limit);
      if (code !== 0) return reject(new Error(`openssl s_time exited ${code}:\n${out.slice(-2000)}`));
      try {
        resolve(parseSTime(out));
      } catch (error) {
        reject(error);
      }
    });
  });
}

/**
 * Runs `connections` clients for `seconds`; resolves with the handshakes
 * made over the wall-clock time they took (s_time counts whole seconds).
 */
export async function runHandshakes({ url, connections, seconds, timeoutSeconds = 30 }) {
  const { hostname, port, pathname, search } = new URL(url);
  const argv = sTimeArgv({ host: hostname, port, path: pathname + search, seconds });
  const started = process.hrtime.bigint();
  const reports = await Promise.all(Array.from({ length: connections }, () => runOne(argv, (seconds + timeoutSeconds) * 1000)));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const requests = reports.reduce((sum, report) => sum + report.connections, 0);
  return {
    requests,
    seconds: elapsed,
    bytesRead: reports.reduce((sum, report) => sum + report.bytesRead, 0),
    rps: requests / elapsed,
    latency: {},
    errors: { connect: 0, read: 0, write: 0, timeout: 0 },
    non2xx: 0,
    argv: [...argv, `(× ${connections})`],
  };
}
