/** The uwsgi packet read alone: cut anywhere, malformed in each way, and the HTTP head it stands for. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseUwsgiPacket } from '../../src/http/uwsgi-protocol.js';

function packet(vars: Array<[string, string]>, modifier1 = 0): Buffer {
  const parts: Buffer[] = [];
  for (const pair of vars) {
    for (const text of pair) {
      const bytes = Buffer.from(text, 'latin1');
      parts.push(Buffer.from([bytes.length & 0xff, bytes.length >> 8]), bytes);
    }
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([modifier1, body.length & 0xff, body.length >> 8, 0]), body]);
}

const GET: Array<[string, string]> = [
  ['REQUEST_METHOD', 'POST'],
  ['REQUEST_URI', '/a/b?c=d'],
  ['SERVER_PROTOCOL', 'HTTP/1.0'],
  ['CONTENT_TYPE', 'text/plain'],
  ['CONTENT_LENGTH', '4'],
  ['HTTP_CONTENT_LENGTH', '999'],
  ['HTTP_HOST', 'example.org'],
  ['HTTP_X_REQUEST_ID', 'r1'],
  ['HTTP_CONNECTION', 'keep-alive'],
  ['HTTP_TRANSFER_ENCODING', 'chunked'],
  ['REMOTE_ADDR', '192.0.2.9'],
  ['REMOTE_PORT', '5050'],
];

describe('parseUwsgiPacket', () => {
  it('rebuilds the HTTP head: CGI body fields over HTTP_* ones, no hop-by-hop field, one request per connection', () => {
    const bytes = Buffer.concat([packet(GET), Buffer.from('body')]);
    const result = parseUwsgiPacket(bytes);
    assert.equal(result.kind, 'done');
    if (result.kind !== 'done') return;
    assert.equal(result.length, bytes.length - 4, 'the body is left for the HTTP parser');
    assert.deepEqual(result.peer, { address: '192.0.2.9', port: 5050, tls: false });
    assert.equal(
      result.replacement?.toString('latin1'),
      'POST /a/b?c=d HTTP/1.0\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nHost: example.org\r\nX-Request-Id: r1\r\nConnection: close\r\n\r\n',
    );
  });

  it('is incomplete at every cut before the whole packet', () => {
    const bytes = packet(GET);
    for (let end = 0; end < bytes.length; end++) assert.deepEqual(parseUwsgiPacket(bytes.subarray(0, end)), { kind: 'incomplete' }, `cut at ${end}`);
  });

  it('refuses what nginx never sends, and what would make the request ambiguous or forge a line', () => {
    const cases: Array<[string, Buffer]> = [
      ['modifier1 7', packet(GET, 7)],
      ['a variable twice', packet([...GET, ['REQUEST_URI', '/other']])],
      ['a method with a space', packet([['REQUEST_METHOD', 'GET /x'], ['REQUEST_URI', '/']])],
      ['a target with a space', packet([['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/a b']])],
      ['an absolute-form target', packet([['REQUEST_METHOD', 'GET'], ['REQUEST_URI', 'http://x/']])],
      ['CR LF in a header value', packet([['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/'], ['HTTP_X_A', 'v\r\nInjected: 1']])],
      ['a header name that is no token', packet([['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/'], ['HTTP_X:Y', 'v']])],
    ];
    for (const [what, bytes] of cases) assert.equal(parseUwsgiPacket(bytes).kind, 'invalid', what);
    const overrun = packet(GET);
    overrun.writeUInt16LE(0xffff, 4); // the first key's length, far past the block's end
    assert.equal(parseUwsgiPacket(overrun).kind, 'invalid', 'a variable that runs past the block');
  });

  it('says TLS when nginx took the request over it', () => {
    for (const flag of [['HTTPS', 'on'], ['REQUEST_SCHEME', 'https']] as Array<[string, string]>) {
      const result = parseUwsgiPacket(packet([['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/'], ['REMOTE_ADDR', '::1'], flag]));
      assert.equal(result.kind === 'done' && result.peer?.tls, true, flag[0]);
    }
  });
});
