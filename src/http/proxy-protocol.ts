/**
 * HAProxy's PROXY protocol, versions 1 and 2
 * (https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt): a load
 * balancer that forwards raw TCP prefixes each connection with the address
 * of the client it accepted. With --proxy-protocol every connection must
 * start with one; the HTTP parser sees only what follows, and the source
 * address becomes the peer that --forwarded-allow-ips then judges.
 *
 *   v1:  "PROXY" SP ( "TCP4" / "TCP6" ) SP src SP dst SP sport SP dport CRLF
 *        "PROXY" SP "UNKNOWN" [ anything ] CRLF              (at most 107 bytes)
 *
 *   v2:  +----------------------------------+-------+-------+--------+--------
 *        | \r\n\r\n\0\r\nQUIT\n  (12 bytes) |ver|cmd|fam|prt| len u16| addresses, TLVs
 *        +----------------------------------+-------+-------+--------+--------
 */
import { isIP, type Server } from 'node:net';
import { requirePreface, type PrefaceResult } from './connection-preface.js';
import { quoteForLog } from '../observability/quote-for-log.js';

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V1_MAX_LENGTH = 107;
// v1 line: the ABNF above, addresses checked with isIP afterwards.
const V1_LINE = /^PROXY (?:(TCP4|TCP6) ([0-9A-Fa-f:.]+) ([0-9A-Fa-f:.]+) (0|[1-9][0-9]{0,4}) (0|[1-9][0-9]{0,4})|UNKNOWN(?: [^\r\n]*)?)$/;
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_HEADER_LENGTH = 16;

/**
 * Parses a PROXY preface at the start of `buf`. A done preface's peer is
 * null for LOCAL, UNKNOWN and non-IP families: the socket's own address stands.
 */
export function parsePreface(buf: Buffer): PrefaceResult {
  if (startsWithPartially(buf, V2_SIGNATURE)) return parseV2(buf);
  if (startsWithPartially(buf, V1_PREFIX)) return parseV1(buf);
  return { kind: 'invalid', reason: 'connection does not start with a PROXY protocol header' };
}

function startsWithPartially(buf: Buffer, prefix: Buffer): boolean {
  const n = Math.min(buf.length, prefix.length);
  return buf.subarray(0, n).equals(prefix.subarray(0, n));
}

function parseV1(buf: Buffer): PrefaceResult {
  const end = buf.indexOf('\r\n');
  if (end === -1) {
    return buf.length >= V1_MAX_LENGTH ? { kind: 'invalid', reason: 'PROXY v1 line longer than 107 bytes' } : { kind: 'incomplete' };
  }
  if (end + 2 > V1_MAX_LENGTH) return { kind: 'invalid', reason: 'PROXY v1 line longer than 107 bytes' };
  const line = buf.subarray(0, end).toString('latin1');
  const match = V1_LINE.exec(line);
  if (match === null) return { kind: 'invalid', reason: `malformed PROXY v1 line '${quoteForLog(line)}'` };
  if (match[1] === undefined) return { kind: 'done', peer: null, length: end + 2 };
  const family = match[1] === 'TCP4' ? 4 : 6;
  const [source, destination] = [match[2] as string, match[3] as string];
  const [sourcePort, destinationPort] = [Number(match[4]), Number(match[5])];
  if (isIP(source) !== family || isIP(destination) !== family || sourcePort > 65535 || destinationPort > 65535) {
    return { kind: 'invalid', reason: `bad addresses in PROXY v1 line '${quoteForLog(line)}'` };
  }
  return { kind: 'done', peer: { address: source, port: sourcePort }, length: end + 2 };
}

function parseV2(buf: Buffer): PrefaceResult {
  if (buf.length < V2_HEADER_LENGTH) return { kind: 'incomplete' };
  const versionCommand = buf[12] as number;
  const familyProtocol = buf[13] as number;
  const length = V2_HEADER_LENGTH + buf.readUInt16BE(14);
  if (versionCommand >> 4 !== 2) return { kind: 'invalid', reason: `PROXY v2 version ${versionCommand >> 4}` };
  const command = versionCommand & 0x0f;
  if (command > 1) return { kind: 'invalid', reason: `PROXY v2 command ${command}` };
  if (buf.length < length) return { kind: 'incomplete' };
  // LOCAL (0): a health check from the proxy itself; the addresses are to be ignored.
  if (command === 0) return { kind: 'done', peer: null, length };
  const family = familyProtocol >> 4;
  const body = buf.subarray(V2_HEADER_LENGTH, length);
  if (family === 1) {
    if (body.length < 12) return { kind: 'invalid', reason: 'PROXY v2 IPv4 block too short' };
    return { kind: 'done', peer: { address: [...body.subarray(0, 4)].join('.'), port: body.readUInt16BE(8) }, length };
  }
  if (family === 2) {
    if (body.length < 36) return { kind: 'invalid', reason: 'PROXY v2 IPv6 block too short' };
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(body.readUInt16BE(i).toString(16));
    return { kind: 'done', peer: { address: compressIpv6(groups), port: body.readUInt16BE(32) }, length };
  }
  // AF_UNSPEC (0) or AF_UNIX (3): no IP address to take.
  if (family === 0 || family === 3) return { kind: 'done', peer: null, length };
  return { kind: 'invalid', reason: `PROXY v2 address family ${family}` };
}

/** The canonical text form (RFC 5952): the longest run of zero groups becomes '::'. */
function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  if (bestStart === -1) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

/** With --proxy-protocol every connection must start with a PROXY header. */
export function requireProxyProtocol(server: Server, timeoutMs: number, onInvalid: (reason: string) => void = () => {}): void {
  requirePreface(server, { name: 'PROXY protocol header', parse: parsePreface }, timeoutMs, onInvalid);
}
