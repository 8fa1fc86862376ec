import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePathBytes, splitTarget } from '../../src/http/request-target.js';

describe('decodePathBytes', () => {
  it('carries decoded bytes as latin-1 characters (PEP 3333 bytes-as-str)', () => {
    assert.equal(decodePathBytes('/%C3%A9'), '/\xc3\xa9');
    assert.equal(decodePathBytes('/%FF'), '/\xff');
    assert.equal(decodePathBytes('/a%2Fb'), '/a/b');
    assert.equal(decodePathBytes('/%00'), '/\x00');
    assert.equal(decodePathBytes('/100%'), '/100%');
    assert.equal(decodePathBytes('/%zz%4'), '/%zz%4');
  });
});

describe('splitTarget', () => {
  it('keeps the query raw and drops the authority of an absolute-form target', () => {
    assert.deepEqual(splitTarget('/p?a=%20&b'), { path: '/p', query: 'a=%20&b' });
    assert.deepEqual(splitTarget('http://example.com/p?q=1'), { path: '/p', query: 'q=1' });
    assert.deepEqual(splitTarget('http://example.com'), { path: '/', query: '' });
    assert.deepEqual(splitTarget('http://example.com?x'), { path: '/', query: 'x' });
  });
});
