/**
 * Mutation fuzzing of the front: valid corpus requests with bytes
 * inserted, deleted or swapped, CR, LF, NUL and ':' dropped in, and whole
 * header lines duplicated or removed. Shared by the bounded test and
 * scripts/fuzz-http.mjs. Invariants checked per request: every answer is
 * well-formed HTTP/1.1, and the app never sees more requests than were
 * answered; after the run a fresh request still gets 200.
 */
import { seededRandom, splitBytes, validCases } from './corpus.js';
import { exchange } from './raw-exchange.js';

const SPECIAL = [0x0d, 0x0a, 0x00, 0x3a, 0x20, 0x09, 0x2c, 0x3b, 0x7f, 0xff];

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
  sent: number;
  answered: number;
  byStatus: Record<string, number>;
  problems: string[];
}

/**
 * Sends `count` mutated requests to `port`; `seen()` counts the requests the
 * app has seen so far.
 */
export async function fuzz(port: number, count: number, seed: number, seen: () => number): Promise<FuzzReport> {
  const random = seededRandom(seed);
  const cases = validCases();
  const report: FuzzReport = { sent: 0, answered: 0, byStatus: {}, problems: [] };
  const seenBefore = seen();
  for (let i = 0; i < count; i++) {
    const c = cases[Math.floor(random() * cases.length)]!;
    const bytes = mutate(c.bytes, random);
    const result = await exchange(port, splitBytes(bytes, random() < 0.2 ? 'random' : 'whole', random), () => false, 3_000, true);
    report.sent++;
    if (result.malformed !== null) report.problems.push(`#${i} ${c.name}: malformed response: ${result.malformed}; sent ${JSON.stringify(bytes.toString('latin1'))}`);
    for (const response of result.finals) {
      report.answered++;
      report.byStatus[response.status] = (report.byStatus[response.status] ?? 0) + 1;
      if (response.version !== 'HTTP/1.1') report.problems.push(`#${i}: status line says ${response.version}`);
    }
  }
  // The app may only have seen requests that were answered.
  const appSaw = seen() - seenBefore;
  if (appSaw > report.answered) report.problems.push(`the app saw ${appSaw} requests but only ${report.answered} were answered`);
  return report;
}
