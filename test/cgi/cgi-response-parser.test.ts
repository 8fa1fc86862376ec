import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CgiBadHeaderError } from '../../src/cgi/cgi-errors.js';
import { CgiResponseParser, MAX_HEADER_BLOCK, type CgiResponseHead } from '../../src/cgi/cgi-response-parser.js';

/** Feeds `output` in pieces of `size` bytes; the head, or null if it never completed. */
function parse(output: string | Buffer, size = Infinity): CgiResponseHead | null {
  const bytes = typeof output === 'string' ? Buffer.from(output, 'latin1') : output;
  const parser = new CgiResponseParser();
  for (let i = 0; i < bytes.length; i += size) {
    const head = parser.push(bytes.subarray(i, Math.min(bytes.length, i + size)));
    if (head !== null) return head;
  }
  return null;
}

function parseError(output: string): string {
  try {
    parse(output);
  } catch (error) {
    assert.ok(error instanceof CgiBadHeaderError);
    assert.equal(error.code, 'PORTICO_ERR_CGI_BAD_HEADER');
    assert.equal(error.status, 502);
    return error.message;
  }
  assert.fail(`no error for ${JSON.stringify(output)}`);
}

describe('CgiResponseParser', () => {
  it('finds the end of the block with LF, CRLF and mixed line ends, in any chunking', () => {
    for (const output of [
      'Content-Type: text/plain\nX-A: 1\n\nbody\r\n\r\nmore',
      'Content-Type: text/plain\r\nX-A: 1\r\n\r\nbody\r\n\r\nmore',
      'Content-Type: text/plain\r\nX-A: 1\n\r\nbody\r\n\r\nmore',
      'Content-Type: text/plain\nX-A: 1\r\n\nbody\r\n\r\nmore',
    ]) {
      for (const size of [1, 2, 3, 5, Infinity]) {
        const head = parse(output, size);
        assert.ok(head, `${JSON.stringify(output)} in ${size}-byte chunks`);
        assert.deepEqual(head.headers, [['Content-Type', 'text/plain'], ['X-A', '1']]);
        // The body is what came in the chunk that completed the head; the rest follows as later chunks.
        assert.ok('body\r\n\r\nmore'.startsWith(head.body.toString('latin1')));
      }
    }
  });

  it('waits for more output until the empty line arrives', () => {
    const parser = new CgiResponseParser();
    assert.equal(parser.push(Buffer.from('Content-Type: text/plain\n')), null);
    assert.equal(parser.bufferedBytes, 25);
    const head = parser.push(Buffer.from('\nbody'));
    assert.equal(head?.body.toString(), 'body');
  });

  it('reads Status with and without a reason phrase (§6.3.3)', () => {
    assert.deepEqual(parse('Status: 404 Not Here\n\n')?.status, 404);
    assert.equal(parse('Status: 404 Not Here\n\n')?.reason, 'Not Here');
    assert.equal(parse('Status: 204\n\n')?.reason, null);
    assert.deepEqual(parse('Status: 204\n\n')?.headers, [], 'Status itself is not sent on');
  });

  it('tells a local Location from a client one (§6.2.2, §6.2.3)', () => {
    assert.deepEqual(parse('Location: /other?x=1\n\n')?.location, { kind: 'local', path: '/other?x=1' });
    assert.deepEqual(parse('Location: https://example.com/\n\n')?.location, { kind: 'client', uri: 'https://example.com/' });
    assert.deepEqual(parse('Location: //example.com/x\n\n')?.location, { kind: 'client', uri: '//example.com/x' });
  });

  it('drops hop-by-hop headers and keeps repeated ones in order', () => {
    const head = parse('Content-Type: a\nConnection: close\nKeep-Alive: 5\nTransfer-Encoding: chunked\nSet-Cookie: a\nSet-Cookie: b\n\n');
    assert.deepEqual(head?.headers, [['Content-Type', 'a'], ['Set-Cookie', 'a'], ['Set-Cookie', 'b']]);
  });

  it('joins obsolete folded lines', () => {
    assert.deepEqual(parse('Content-Type: text/plain\nX-Long: one\n two\n\n')?.headers, [['Content-Type', 'text/plain'], ['X-Long', 'one two']]);
  });

  it('refuses what is not a header block', () => {
    assert.match(parseError('hello world\n\n'), /not a header line/);
    assert.match(parseError(': no name\n\n'), /not a header line/);
    assert.match(parseError('Bad Name: x\nContent-Type: a\n\n'), /invalid header name/);
    assert.match(parseError('Content-Type: a\rb\n\n'), /control character/);
    assert.match(parseError('Content-Type: a\x00b\n\n'), /control character/);
    assert.match(parseError('Status: abc\n\n'), /invalid Status/);
    assert.match(parseError('Status: 100 Continue\n\n'), /invalid Status/);
    assert.match(parseError('Status: 600\n\n'), /invalid Status/);
    assert.match(parseError('Content-Type: a\nContent-Length: -1\n\n'), /invalid Content-Length/);
    assert.match(parseError('Location: relative/path\n\n'), /neither a local path nor an absolute URI/);
    assert.match(parseError('X-Only: 1\n\n'), /none of Content-Type, Location, Status/);
    assert.match(parseError('\n\nbody'), /none of Content-Type, Location, Status/);
  });

  it('refuses a header block that never ends', () => {
    const parser = new CgiResponseParser();
    const line = Buffer.from(`X-Filler: ${'x'.repeat(1000)}\n`);
    assert.throws(() => {
      for (let i = 0; i <= MAX_HEADER_BLOCK / line.length + 1; i++) parser.push(line);
    }, CgiBadHeaderError);
  });
});
