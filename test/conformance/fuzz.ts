/**
 * Mutation fuzzing of the front: valid corpus requests with bytes
 * inserted, deleted or swapped, CR, LF, NUL and ':' dropped in, and whole
 * header lines duplicated or removed. Shared by the bounded test and
 * scripts/fuzz-http.mjs. Each mutated request goes on its own connection,
 * half-closed after it, and three things are checked:
 *   - never stops answering: every exchange ends (the server answers and
 *     closes, or just closes) within a deadline, and every LIVENESS_EVERY
 *     exchanges a fresh valid request gets its 200 from the app;
 *   - every response is well formed: parseStrictResponses (in
 *     test/helpers/raw-response.ts) reads all the bytes of the connection,
 *     and a response cut short or followed by anything is a failure;
 *   - the app never sees more requests than it answered, per connection:
 *     the app logs each request with REMOTE_PORT (the connection) and an id
 *     that it also sends back in X-Echo-Id, so every request the app saw on a
 *     connection must have its response on that connection. A request
 *     smuggled past a refusal is seen by the app and never answered: a
 *     failure. Two exceptions, each only for the last request the app saw
 *     on the connection (nothing after it is read):
 *       - its body was refused or cut short: the app saw the head but never
 *         finished the request, so there is no response of its own;
 *       - it was answered, but after the client's half-close, and portico
 *         refused nothing on that connection: Node ends a half-closed
 *         connection without writing the responses still pending. The
 *         fuzzer half-closes only after a response or a quiet spell, so this
 *         is rare, and counted.
 */
import { ECHO_ID_HEADER, echoServerOn, type AppRequest, type EchoServer } from './conformance-server.js';
import { seededRandom, splitBytes, validCases } from './corpus.js';
import { exchange, type Exchange } from './raw-exchange.js';
import { header, type RawResponse } from '../helpers/raw-response.js';

const SPECIAL = [0x0d, 0x0a, 0x00, 0x3a, 0x20, 0x09, 0x2c, 0x3b, 0x7f, 0xff];
/** A valid request on a fresh connection after this many exchanges must get its 200. */
export const LIVENESS_EVERY = 25;
/** An exchange that neither ends nor closes within this is a hang (the fuzz server's timeouts are 1 s). */
export const EXCHANGE_TIMEOUT_MS = 3_000;
/** How long the server may stay silent before the fuzzer half-closes (which ends every request still incomplete). */
const HALF_CLOSE_QUIET_MS = 50;
const ALIVE = Buffer.from('GET /__alive__ HTTP/1.1\r\nHost: alive.example\r\nConnection: close\r\n\r\n', 'latin1');

export function mutate(input: Buffer, random: () => number): Buffer {
  let bytes = Buffer.from(input);
  const rounds = 1 + Math.floor(random() * 3);
  for (let r = 0; r < rounds; r++) {
    const at = Math.floor(random() * (bytes.length + 1));
    const pick = Math.floor(random() * 7);
    const byte = random() < 0.6 ? (SPECIAL[Math.floor(random() * SPECIAL.length)] as number) : Math.floor(random() * 256);
    if (pick === 0) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([byte]), bytes.subarray(at)]);
    else if (pick === 1 && bytes.length > 0) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
    else if (pick === 2 && at < bytes.length) bytes[at] = byte;
    else if (pick === 3 && bytes.length > 1) {
      const other = Math.floor(random() * bytes.length);
      const a = bytes[at % bytes.length] as number;
      bytes[at % bytes.length] = bytes[other] as number;
      bytes[other] = a;
    } else {
      // Whole header lines: duplicate one, drop one, or add a framing header.
      const lines = bytes.toString('latin1').split('\r\n');
      const head = lines.indexOf('');
      if (head <= 1) continue;
      const line = 1 + Math.floor(random() * (head - 1));
      if (pick === 4) lines.splice(line, 0, lines[line] as string);
      else if (pick === 5) lines.splice(line, 1);
      else lines.splice(line, 0, random() < 0.5 ? 'Content-Length: 3' : 'Transfer-Encoding: chunked');
      bytes = Buffer.from(lines.join('\r\n'), 'latin1');
    }
  }
  return bytes;
}

export interface FuzzReport {
  /** Mutated requests sent. */
  sent: number;
  /** Final responses received to them. */
  answered: number;
  byStatus: Record<string, number>;
  /** Exchanges the server closed without any response (acceptable: it gave up on bytes it could not read). */
  closedUnanswered: number;
  /** Exchanges that neither ended nor closed within EXCHANGE_TIMEOUT_MS (each also a problem). */
  hangs: number;
  /** Liveness requests sent during the run. */
  livenessChecks: number;
  /** Requests the app saw, and how many of those the app answered on their own connection. */
  appSaw: number;
  appAnswered: number;
  /** App responses not written because the client had half-closed (see above). */
  droppedAtHalfClose: number;
  problems: string[];
}

/** One connection of the run: a mutated request, or a liveness check. */
interface Connection {
  label: string;
  sent: Buffer;
  result: Exchange;
  /** The requests the app logged from this connection's port. */
  appRequests: AppRequest[];
}

/**
 * Sends `count` mutated requests to the echo server and checks the
 * invariants above. The server may be given by its port (the form
 * scripts/fuzz-http.mjs uses); it must then be one that startEchoServer()
 * started in this process, since the per-connection accounting reads its
 * app's log. The fourth argument, once a count of the requests the app had
 * seen, is no longer needed and is ignored.
 */
export async function fuzz(target: EchoServer | number, count: number, seed: number, _seen?: () => number): Promise<FuzzReport> {
  const server = typeof target === 'number' ? echoServerOn(target) : target;
  if (server === undefined) throw new Error(`fuzz: no echo server started by startEchoServer() listens on port ${String(target)}`);
  const port = server.portico.port;
  const random = seededRandom(seed);
  const cases = validCases();
  const report: FuzzReport = { sent: 0, answered: 0, byStatus: {}, closedUnanswered: 0, hangs: 0, livenessChecks: 0, appSaw: 0, appAnswered: 0, droppedAtHalfClose: 0, problems: [] };
  const connections: Connection[] = [];
  // Which connection a port belongs to: the app's log names the port, and a
  // line can arrive after its exchange is over.
  const byPort = new Map<number, Connection>();
  let logRead = server.requests().length;
  const attribute = (): void => {
    const requests = server.requests();
    for (; logRead < requests.length; logRead++) {
      const request = requests[logRead] as AppRequest;
      const connection = byPort.get(request.port);
      if (connection === undefined) report.problems.push(`the app saw ${request.method} ${JSON.stringify(request.uri)} from port ${request.port}, no connection of this run`);
      else connection.appRequests.push(request);
    }
  };
  const track = (label: string, sent: Buffer, result: Exchange): Connection => {
    const connection: Connection = { label, sent, result, appRequests: [] };
    connections.push(connection);
    byPort.set(result.localPort, connection);
    attribute();
    return connection;
  };

  const checkLiveness = async (when: string): Promise<void> => {
    report.livenessChecks++;
    const result = await exchange(port, [ALIVE], (finals) => finals.length >= 1, EXCHANGE_TIMEOUT_MS);
    track(`liveness ${when}`, ALIVE, result);
    const response = result.finals[0];
    const alive = response?.status === 200 && response.body.toString('latin1').includes('"PATH_INFO": "/__alive__"');
    if (!alive) report.problems.push(`liveness ${when}: ${response === undefined ? (result.timedOut ? 'no answer within the deadline' : 'connection closed unanswered') : `got ${response.status}`}`);
    if (server.portico.process.exitCode !== null || server.portico.process.signalCode !== null) report.problems.push(`liveness ${when}: portico has exited`);
  };

  for (let i = 0; i < count; i++) {
    if (i > 0 && i % LIVENESS_EVERY === 0) await checkLiveness(`after #${i - 1}`);
    const c = cases[Math.floor(random() * cases.length)]!;
    const bytes = mutate(c.bytes, random);
    const pieces = splitBytes(bytes, random() < 0.2 ? 'random' : 'whole', random);
    const result = await exchange(port, pieces, () => false, EXCHANGE_TIMEOUT_MS, { afterQuietMs: HALF_CLOSE_QUIET_MS });
    const label = `#${i} ${c.name}`;
    track(label, bytes, result);
    report.sent++;
    const wire = result.malformed ?? result.wireProblem;
    if (wire !== null) report.problems.push(`${label}: malformed response: ${wire}; sent ${JSON.stringify(bytes.toString('latin1'))}`);
    if (result.timedOut) {
      report.hangs++;
      report.problems.push(`${label}: no end within ${EXCHANGE_TIMEOUT_MS} ms (${result.received.length} bytes received, connection still open); sent ${JSON.stringify(bytes.toString('latin1'))}`);
    } else if (result.finals.length === 0 && wire === null) {
      report.closedUnanswered++;
    }
    for (const response of result.finals) {
      report.answered++;
      report.byStatus[response.status] = (report.byStatus[response.status] ?? 0) + 1;
    }
  }
  await checkLiveness('at the end');
  // Lines the app logged after their exchange was over.
  await server.quiesce();
  attribute();

  for (const connection of connections) account(connection, report);
  return report;
}

/** What `accountConnection` finds: the problems, and the tolerated drops at the client's half-close. */
export interface ConnectionAccount {
  problems: string[];
  droppedAtHalfClose: number;
}

/**
 * The per-connection invariant (see the top of this file): every request
 * the app saw on a connection was answered on it, bar the last if its body
 * was cut short, or if its answer was dropped at the client's half-close on
 * a connection where portico refused nothing.
 */
export function accountConnection(appRequests: readonly AppRequest[], responses: readonly RawResponse[]): ConnectionAccount {
  const account: ConnectionAccount = { problems: [], droppedAtHalfClose: 0 };
  const answeredIds = new Set(responses.map((r) => header(r, ECHO_ID_HEADER)).filter((id): id is string => id !== undefined));
  const refused = responses.some((r) => r.status >= 200 && header(r, ECHO_ID_HEADER) === undefined);
  const sawIds = new Set(appRequests.map((r) => r.id));
  for (const id of answeredIds) {
    if (!sawIds.has(id)) account.problems.push(`a response from the app (X-Echo-Id ${id}) to a request it never saw on this connection`);
  }
  appRequests.forEach((request, index) => {
    if (answeredIds.has(request.id)) return;
    const what = `${request.method} ${JSON.stringify(request.uri)}`;
    const last = index === appRequests.length - 1;
    if (!last) account.problems.push(`the app saw ${what}, never answered, and then more requests on the same connection`);
    else if (request.completed && refused) account.problems.push(`the app saw and answered ${what}, but the client got portico's refusal instead`);
    else if (request.completed) account.droppedAtHalfClose++;
  });
  return account;
}

function account(connection: Connection, report: FuzzReport): void {
  const { label, sent, appRequests, result } = connection;
  report.appSaw += appRequests.length;
  const answeredIds = new Set(result.responses.map((r) => header(r, ECHO_ID_HEADER)));
  report.appAnswered += appRequests.filter((r) => answeredIds.has(r.id)).length;
  const { problems, droppedAtHalfClose } = accountConnection(appRequests, result.responses);
  report.droppedAtHalfClose += droppedAtHalfClose;
  for (const problem of problems) report.problems.push(`${label}: ${problem}; sent ${JSON.stringify(sent.toString('latin1'))}`);
}
