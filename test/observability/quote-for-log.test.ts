/** What a log line may quote of a request: bounded, escaped, and saying what it cut. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LOG_QUOTE_LIMIT, quoteForLog } from '../../src/observability/quote-for-log.js';

describe('quoteForLog', () => {
  it('leaves printable ASCII as it is', () => {
    assert.equal(quoteForLog('GET /a/b?c=d&e=%41 HTTP'), 'GET /a/b?c=d&e=%41 HTTP');
  });

  it('escapes CR, LF, ESC, DEL, C1 controls, other non-ASCII bytes, quotes and backslashes as \\xHH', () => {
    assert.equal(quoteForLog('a\r\nb\x1b[31mc\x7f\x9b\x85\xe9"\\'), 'a\\x0D\\x0Ab\\x1B[31mc\\x7F\\x9B\\x85\\xE9\\x22\\x5C');
    // Wider than a byte (not what a request brings, but never raw either): its UTF-8 bytes.
    assert.equal(quoteForLog('\u2028\u{1F600}'), '\\xE2\\x80\\xA8\\xF0\\x9F\\x98\\x80');
  });

  it('never yields a control character, whatever it is given', () => {
    const every = Array.from({ length: 256 }, (_, byte) => String.fromCharCode(byte)).join('');
    const quoted = quoteForLog(every, 10_000);
    assert.doesNotMatch(quoted, /[^\x20-\x7e]/);
    assert.equal(quoted.length, 95 - 2 + (256 - 95 + 2) * 4);
  });

  it('cuts at the limit and says how many bytes it left out', () => {
    const target = `/${'a'.repeat(64 * 1024)}`;
    const quoted = quoteForLog(target);
    assert.equal(quoted, `/${'a'.repeat(LOG_QUOTE_LIMIT - 1)}...[${target.length - LOG_QUOTE_LIMIT} more bytes]`);
    assert.ok(quoted.length < LOG_QUOTE_LIMIT + 30);
  });

  it('never cuts an escape in half, and counts what it cut in bytes of the original', () => {
    const quoted = quoteForLog('ab\r\ncd', 7);
    assert.equal(quoted, 'ab\\x0D...[3 more bytes]');
    assert.equal(quoteForLog('\x1b'.repeat(100), 8), '\\x1B\\x1B...[98 more bytes]');
  });

  it('does not cut what fits exactly', () => {
    assert.equal(quoteForLog('abcd', 4), 'abcd');
    assert.equal(quoteForLog('', 4), '');
  });
});
