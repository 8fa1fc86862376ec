/**
 * src/http/refusal.ts: a refusal carries its status and a code from the
 * table; a connection marked closing stays marked, and only that one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ERROR_CODES } from '../../src/error-codes.js';
import { isClosing, isRefusal, markClosing, refusal } from '../../src/http/refusal.js';

describe('refusal', () => {
  it('is the status to answer, a code from the table and a reason for the log', () => {
    const refused = refusal(431, 'PORTICO_ERR_FIELD_TOO_LARGE', 'why, for the log');
    assert.deepEqual(refused, { refuse: 431, code: 'PORTICO_ERR_FIELD_TOO_LARGE', reason: 'why, for the log' });
    assert.ok(refused.code in ERROR_CODES);
  });

  it('is told from what is not one', () => {
    assert.equal(isRefusal(refusal(0, 'PORTICO_ERR_PROXY_PROTOCOL', 'no preface')), true);
    for (const value of [null, undefined, 400, 'refuse', { targetAuthority: null }, { status: 400, code: 'PORTICO_ERR_PARSE' }]) assert.equal(isRefusal(value), false);
  });
});

describe('markClosing', () => {
  it('marks one connection, and no other', () => {
    const marked = {};
    const other = {};
    assert.equal(isClosing(marked), false);
    markClosing(marked);
    assert.equal(isClosing(marked), true);
    assert.equal(isClosing(other), false);
  });
});
