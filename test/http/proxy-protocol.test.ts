/**
 * --proxy-protocol beyond TCP4 (front.test.ts has v1 and v2 TCP4): IPv6
 * address blocks, the v2 LOCAL command, v1 UNKNOWN, and prefaces that
 * arrive in pieces, down to one byte a write. The HAProxy specification is
 * https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startEchoServer, type EchoServer } from '../conformance/conformance-server.js';
import { exchange } from '../conformance/raw-exchange.js';
import { parsePreface } from '../../src/http/proxy-protocol.js';

const SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const LOCAL = 0x20;
const PROXY = 0x21;
const TCP4 = 0x11;
const TCP6 = 0x21;
const UNSPEC = 0x00;

/** A v2 header: signature, version and command, family and protocol, length, then the rest (§2.2). */
function v2(command: number, familyProtocol: number, rest: Buffer): Buffer {
  const head = Buffer.from([command, familyProtocol, rest.length >> 8, rest.length & 0xff]);
  return Buffer.concat([SIGNATURE, head, rest]);
}

/** An IPv6 address from its eight 16-bit groups. */
function ipv6(groups: number[]): Buffer {
  const buf = Buffer.alloc(16);
  groups.forEach((group, i) => buf.writeUInt16BE(group, i * 2));
  return buf;
}

function ports(source: number, destination: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeUInt16BE(source, 0);
  buf.writeUInt16BE(destination, 2);
  return buf;
}

const tcp6Block = (source: number[], sourcePort: number): Buffer => Buffer.concat([ipv6(source), ipv6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 9]), ports(sourcePort, 443)]);
const tcp4Block = (source: number[], sourcePort: number): Buffer => Buffer.concat([Buffer.from(source), Buffer.from([192, 0, 2, 9]), ports(sourcePort, 80)]);
/** A PP2_TYPE_AUTHORITY TLV (§2.2.1): what follows the addresses is skipped by the length. */
const authorityTlv = Buffer.concat([Buffer.from([0x02, 0x00, 0x0c]), Buffer.from('shop.example', 'latin1')]);

const request = (path = '/proxied'): Buffer => Buffer.from(`GET ${path} HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.5\r\n\r\n`, 'latin1');
const bytewise = (buf: Buffer): Buffer[] => [...buf].map((byte) => Buffer.from([byte]));

async function environOf(port: number, pieces: Buffer[]): Promise<Record<string, string>> {
  const result = await exchange(port, pieces, (finals) => finals.length >= 1);
  const response = result.finals[0];
  assert.equal(response?.status, 200, `no 200 (closed=${result.closed}, got ${JSON.stringify(result.received.toString('latin1').slice(0, 80))})`);
  return JSON.parse(response.body.toString('latin1'));
}

async function assertClosedUnanswered(port: number, pieces: Buffer[]): Promise<void> {
  const result = await exchange(port, pieces, () => false);
  assert.equal(result.finals.length, 0);
  assert.ok(result.closed);
}

describe('--proxy-protocol: IPv6, LOCAL, UNKNOWN and split prefaces', { timeout: 45_000 }, () => {
  let server: EchoServer;
  before(async () => {
    // Only one IPv6 proxy is trusted: whether X-Forwarded-For is believed shows which peer the preface gave.
    server = await startEchoServer(['--proxy-protocol', '--forwarded-allow-ips', '2001:db8::1']);
  });
  after(async () => server?.stop());

  test('v2 TCP6: the source address, in RFC 5952 form, and port are the peer', async () => {
    const port = server.portico.port;
    const untrusted = await environOf(port, [v2(PROXY, TCP6, tcp6Block([0x2001, 0xdb8, 0, 1, 0, 0, 0, 7], 4711)), request()]);
    assert.equal(untrusted.REMOTE_ADDR, '2001:db8:0:1::7');
    assert.equal(untrusted.REMOTE_PORT, '4711');
    assert.equal(untrusted.HTTP_X_FORWARDED_FOR, '203.0.113.5');
    // The trusted proxy, with a TLV after its addresses: its X-Forwarded-For is believed.
    const trusted = await environOf(port, [v2(PROXY, TCP6, Buffer.concat([tcp6Block([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], 4712), authorityTlv])), request()]);
    assert.equal(trusted.REMOTE_ADDR, '203.0.113.5');
  });

  test('v2 LOCAL: the addresses, if any, are ignored and the socket is the peer', async () => {
    const port = server.portico.port;
    for (const preface of [v2(LOCAL, UNSPEC, Buffer.alloc(0)), v2(LOCAL, TCP6, tcp6Block([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], 4712)), v2(LOCAL, TCP4, tcp4Block([198, 51, 100, 7], 5555))]) {
      const environ = await environOf(port, [preface, request()]);
      assert.equal(environ.REMOTE_ADDR, '127.0.0.1', 'not the address block, and 127.0.0.1 is not trusted');
      assert.match(environ.REMOTE_PORT ?? '', /^[1-9][0-9]*$/, "the socket's own port");
    }
  });

  test('v1 UNKNOWN, bare or with addresses, leaves the socket as the peer; v1 TCP6 gives an IPv6 peer', async () => {
    const port = server.portico.port;
    for (const line of ['PROXY UNKNOWN\r\n', 'PROXY UNKNOWN 2001:db8::1 2001:db8::9 4712 443\r\n']) {
      assert.equal((await environOf(port, [Buffer.from(line, 'latin1'), request()])).REMOTE_ADDR, '127.0.0.1', line);
    }
    const tcp6 = await environOf(port, [Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::9 5555 443\r\n', 'latin1'), request()]);
    assert.equal(tcp6.REMOTE_ADDR, '2001:db8::7');
    assert.equal(tcp6.REMOTE_PORT, '5555');
    assert.equal((await environOf(port, [Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::9 5555 443\r\n', 'latin1'), request()])).REMOTE_ADDR, '203.0.113.5');
  });

  test('a preface in pieces, down to a byte a write, is the same preface', async () => {
    const port = server.portico.port;
    const preface4 = v2(PROXY, TCP4, tcp4Block([198, 51, 100, 7], 5555));
    assert.equal((await environOf(port, bytewise(Buffer.concat([preface4, request()])))).REMOTE_ADDR, '198.51.100.7');
    const preface6 = v2(PROXY, TCP6, Buffer.concat([tcp6Block([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], 4712), authorityTlv]));
    assert.equal((await environOf(port, bytewise(Buffer.concat([preface6, request()])))).REMOTE_ADDR, '203.0.113.5');
    // Cut inside the signature, between the two length bytes, inside the addresses, and inside the TLV.
    const cuts = [5, 13, 15, 30, 55];
    const pieces = cuts.map((end, i) => preface6.subarray(cuts[i - 1] ?? 0, end));
    pieces.push(Buffer.concat([preface6.subarray(55), request()]));
    assert.equal((await environOf(port, pieces)).REMOTE_ADDR, '203.0.113.5');
    const line = Buffer.from('PROXY TCP4 198.51.100.7 192.0.2.9 5555 80\r\n', 'latin1');
    assert.equal((await environOf(port, bytewise(Buffer.concat([line, request()])))).REMOTE_ADDR, '198.51.100.7');
    // CR and LF in different writes.
    assert.equal((await environOf(port, [line.subarray(0, line.length - 1), Buffer.concat([line.subarray(line.length - 1), request()])])).REMOTE_PORT, '5555');
  });

  test('a preface whose family and addresses disagree closes the connection unanswered', async () => {
    const port = server.portico.port;
    await assertClosedUnanswered(port, [Buffer.from('PROXY TCP6 198.51.100.7 192.0.2.9 5555 80\r\n', 'latin1'), request('/never')]);
    await assertClosedUnanswered(port, [v2(PROXY, TCP6, tcp4Block([198, 51, 100, 7], 5555)), request('/never')]);
    assert.deepEqual(server.seen().filter(([, uri]) => uri === '/never'), []);
  });
});

describe('parsePreface in pieces', () => {
  const prefaces: Array<[string, Buffer, string | null]> = [
    ['v2 TCP6 with a TLV', v2(PROXY, TCP6, Buffer.concat([tcp6Block([0x2001, 0xdb8, 0, 1, 0, 0, 0, 7], 4711), authorityTlv])), '2001:db8:0:1::7'],
    ['v2 LOCAL', v2(LOCAL, UNSPEC, Buffer.alloc(0)), null],
    ['v1 TCP6', Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::9 5555 443\r\n', 'latin1'), '2001:db8::7'],
    ['v1 UNKNOWN', Buffer.from('PROXY UNKNOWN\r\n', 'latin1'), null],
  ];
  for (const [name, preface, address] of prefaces) {
    test(`${name}: every strict prefix is incomplete, the whole is done, what follows is not taken`, () => {
      for (let end = 0; end < preface.length; end++) {
        assert.deepEqual(parsePreface(preface.subarray(0, end)), { kind: 'incomplete' }, `${name} cut at ${end}`);
      }
      const result = parsePreface(Buffer.concat([preface, request()]));
      assert.equal(result.kind, 'done');
      assert.equal(result.kind === 'done' ? result.length : -1, preface.length);
      assert.equal(result.kind === 'done' ? (result.peer?.address ?? null) : undefined, address);
    });
  }

  test('IPv6 sources come out in RFC 5952 form', () => {
    const addressOf = (groups: number[]): string | undefined => {
      const result = parsePreface(v2(PROXY, TCP6, tcp6Block(groups, 1)));
      return result.kind === 'done' ? result.peer?.address : undefined;
    };
    assert.equal(addressOf([0, 0, 0, 0, 0, 0, 0, 1]), '::1');
    assert.equal(addressOf([0, 0, 0, 0, 0, 0, 0, 0]), '::');
    assert.equal(addressOf([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]), '2001:db8::');
    // §4.2.2: a single zero group is not shortened; §4.2.3: the first of two equal runs is.
    assert.equal(addressOf([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]), '2001:db8:0:1:1:1:1:1');
    assert.equal(addressOf([0x2001, 0, 0, 1, 0, 0, 1, 0xabcd]), '2001::1:0:0:1:abcd');
    assert.equal(addressOf([0x2001, 0xdb8, 0, 0, 1, 0, 0, 0]), '2001:db8:0:0:1::');
  });
});
