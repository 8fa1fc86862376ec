/**
 * What a WebSocket client may get wrong, each with the close code or status
 * RFC 6455 gives it (issue #14): a message over --ws-max-size (1009), also
 * when permessage-deflate hides it (a compression bomb); invalid UTF-8 in a
 * text message (1007); an unmasked frame, reserved bits and an unknown
 * opcode (1002), written by hand on a raw socket after a valid handshake;
 * and a handshake with a bad key or version (400, with the version the
 * server speaks). An application's close with a code or reason the RFC
 * forbids becomes 1011. After each, the application heard the disconnect
 * and the worker serves on.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import type { Portico } from '../helpers/portico.js';
import { fixtureSaid, uniqueMark } from '../helpers/asgi-fixtures.js';
import { RawConnection } from '../helpers/raw-connection.js';
import { splitHead } from '../helpers/raw-response.js';
import { startWs } from '../helpers/websocket-fixtures.js';
import { closeAll, WsClient, wsUrl } from '../helpers/websocket-client.js';
import { encodeFrame, handshakeRequest, Opcode, parseFrames, rawWebSocket, serverClose } from '../helpers/websocket-frames.js';

const MAX_SIZE = 64 * 1024;

describe('WebSocket bad input', { timeout: 60_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startWs('raw_ws:app', ['--ws-max-size', String(MAX_SIZE)]);
  });
  after(async () => {
    closeAll();
    await server?.stop();
  });

  /** An /echo session on a raw socket, its greeting read, and its mark. */
  async function rawEcho(): Promise<{ conn: RawConnection; mark: string }> {
    const mark = uniqueMark('bad');
    const conn = await rawWebSocket(server.port, `/echo?mark=${mark}`);
    await fixtureSaid(server, `echo open mark=${mark}`);
    assert.ok(await conn.waitFor((buf) => parseFrames(buf).some((f) => f.payload.includes('pid ')), 5_000), 'the greeting came');
    conn.consume();
    return { conn, mark };
  }

  /**
   * The code the application's websocket.disconnect carried for the session
   * `mark`. A raw client that drops the connection after the server's close
   * frame sent none back: the application may hear 1006 (RFC 6455 §7.1.5)
   * rather than the server's own code, but never a normal close.
   */
  async function disconnectCode(mark: string): Promise<string> {
    return (await server.waitForLog(new RegExp(`echo disconnect code=(\\d+|None) mark=${mark}\\b`), 5_000))[1] as string;
  }

  /** The worker still echoes on a new connection. */
  async function servesOn(): Promise<void> {
    const client = await WsClient.open(wsUrl(server.url, '/echo'));
    await client.next();
    assert.equal((await client.roundTrip('still serving')).data.toString(), 'still serving');
    client.close();
  }

  it('closes with 1009 on a message one byte over --ws-max-size; one at the limit echoes', async () => {
    const mark = uniqueMark('size');
    const client = await WsClient.open(wsUrl(server.url, `/echo?mark=${mark}`));
    await client.next();
    const fits = Buffer.alloc(MAX_SIZE, 1);
    assert.equal((await client.roundTrip(fits)).data.length, MAX_SIZE);
    client.send(Buffer.alloc(MAX_SIZE + 1, 2));
    assert.equal((await client.closedWithin(5_000)).code, 1009);
    // ws stops reading once it fails the connection, so the client's answering close goes unread: 1006.
    assert.ok(['1009', '1006'].includes(await disconnectCode(mark)));
    await servesOn();
  });

  it('closes with 1009 on a compression bomb: 16 KiB of deflate that inflates to 16 MiB', async () => {
    // permessage-deflate negotiated, then one compressed frame written by hand (RFC 7692 §7.2.1: RSV1, tail stripped).
    const mark = uniqueMark('bomb');
    const conn = await RawConnection.open(server.port);
    try {
      conn.write(handshakeRequest(`/echo?mark=${mark}`, [['Sec-WebSocket-Extensions', 'permessage-deflate']]));
      assert.ok(await conn.waitFor((buf) => splitHead(buf) !== null, 5_000));
      const head = (splitHead(conn.received) as { head: string }).head;
      assert.match(head, /^HTTP\/1\.1 101 /);
      assert.match(head, /\r\nSec-WebSocket-Extensions: permessage-deflate/i);
      const compressed = deflateRawSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
      const payload = compressed.subarray(0, compressed.length - 4);
      assert.ok(payload.length < 32 * 1024, `the bomb is ${payload.length} bytes`);
      conn.write(encodeFrame({ opcode: Opcode.BINARY, rsv: 0b100, payload }));
      const closed = await serverClose(conn, 5_000);
      assert.equal(closed.code, 1009);
    } finally {
      conn.destroy();
    }
    assert.notEqual(await disconnectCode(mark), '1000');
    await servesOn();
  });

  it('closes with 1007 on a text message that is not UTF-8, also when split across fragments', async () => {
    for (const frames of [
      [encodeFrame({ opcode: Opcode.TEXT, payload: Buffer.from([0x68, 0x69, 0xc3, 0x28]) })],
      [
        encodeFrame({ opcode: Opcode.TEXT, fin: false, payload: Buffer.from('ok so far ') }),
        encodeFrame({ opcode: Opcode.CONTINUATION, payload: Buffer.from([0xed, 0xa0, 0x80]) }), // a UTF-16 surrogate
      ],
    ]) {
      const { conn, mark } = await rawEcho();
      try {
        for (const frame of frames) conn.write(frame);
        assert.equal((await serverClose(conn, 5_000)).code, 1007);
      } finally {
        conn.destroy();
      }
      assert.notEqual(await disconnectCode(mark), '1000');
    }
    await servesOn();
  });

  for (const [what, frame] of [
    ['an unmasked client frame', encodeFrame({ opcode: Opcode.TEXT, payload: 'naked', mask: false })],
    ['RSV2 set with no extension that defines it', encodeFrame({ opcode: Opcode.TEXT, payload: 'odd bits', rsv: 0b010 })],
    ['RSV1 set without permessage-deflate', encodeFrame({ opcode: Opcode.BINARY, payload: 'not deflated', rsv: 0b100 })],
    ['the reserved data opcode 0x3', encodeFrame({ opcode: 0x3, payload: 'what is this' })],
    ['the reserved control opcode 0xB', encodeFrame({ opcode: 0xb, payload: '' })],
    ['a fragmented ping', encodeFrame({ opcode: Opcode.PING, payload: 'frag', fin: false })],
  ] as const) {
    it(`closes with 1002 on ${what}`, async () => {
      const { conn, mark } = await rawEcho();
      try {
        conn.write(frame);
        assert.equal((await serverClose(conn, 5_000)).code, 1002);
      } finally {
        conn.destroy();
      }
      assert.notEqual(await disconnectCode(mark), '1000');
    });
  }

  it("closes with 1011 when the application's own close is one RFC 6455 forbids; the worker serves on", async () => {
    // §7.4.1-2: 1005 and 1006 are never sent, 999 and 5000 are no codes; §5.5: a close's payload is at most 125 bytes.
    for (const query of ['code=1005', 'code=1006', 'code=999', 'code=5000', 'code=4000&reason_bytes=124']) {
      const client = await WsClient.open(wsUrl(server.url, `/close-with?${query}`));
      assert.equal((await client.closedWithin(5_000)).code, 1011, query);
    }
    await servesOn();
  });

  it('answers a handshake with a bad Sec-WebSocket-Key or version with 400 and Sec-WebSocket-Version: 13; the app never hears of it', async () => {
    const mark = uniqueMark('handshake');
    for (const [name, headers] of [
      ['no key', ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13']],
      ['a key of 15 bytes', ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA', 'Sec-WebSocket-Version: 13']],
      ['a key that is not base64', ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==', 'Sec-WebSocket-Version: 13']],
      ['version 8', ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 8']],
      ['no version', ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']],
    ] as const) {
      const conn = await RawConnection.open(server.port);
      try {
        conn.write(`GET /echo?mark=${mark} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers.join('\r\n')}\r\n\r\n`);
        const [response] = await conn.readResponses(1, 5_000);
        assert.equal(response?.status, 400, `${name}: ${conn.text}`);
        const version = response.headers.find(([n]) => n.toLowerCase() === 'sec-websocket-version');
        assert.equal(version?.[1], '13', `${name}: ${conn.text}`);
        assert.ok(await conn.waitForClose(5_000), `${name}: the connection closes after the 400`);
      } finally {
        conn.destroy();
      }
    }
    assert.doesNotMatch(server.logs(), new RegExp(`echo open mark=${mark}`));
  });
});
