/**
 * src/http/client-error.ts: what is answered when Node's parser refuses the
 * bytes before there is a request: the status and code for each parser
 * error, the exact closing response, and when nothing may be sent at all.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import { answerClientError, closingResponse, refusalForClientError } from '../../src/http/client-error.js';
import { parseStrictResponses } from '../helpers/raw-response.js';

const parserError = (code: string | undefined, message = 'Parse Error'): Error & { code?: string } => Object.assign(new Error(message), code === undefined ? {} : { code });

describe('refusalForClientError', () => {
  it('gives the parser errors that have their own status their own code', () => {
    const cases: Array<[string, number, string]> = [
      ['HPE_HEADER_OVERFLOW', 431, 'PORTICO_ERR_HEAD_TOO_LARGE'],
      ['ERR_HTTP_REQUEST_TIMEOUT', 408, 'PORTICO_ERR_HEADERS_TIMEOUT'],
      ['HPE_CHUNK_EXTENSIONS_OVERFLOW', 413, 'PORTICO_ERR_CHUNK_EXTENSIONS_TOO_LARGE'],
    ];
    for (const [nodeCode, status, code] of cases) {
      const refused = refusalForClientError(parserError(nodeCode));
      assert.deepEqual([refused.refuse, refused.code], [status, code], nodeCode);
    }
  });

  it("answers every other parser error 400 PORTICO_ERR_PARSE, keeping Node's code in the reason for the log", () => {
    const refused = refusalForClientError(parserError('HPE_INVALID_METHOD', 'Invalid method encountered'));
    assert.deepEqual(refused, { refuse: 400, code: 'PORTICO_ERR_PARSE', reason: 'HPE_INVALID_METHOD: Invalid method encountered' });
    assert.equal(refusalForClientError(parserError(undefined, 'odd')).reason, 'odd');
  });
});

describe('closingResponse', () => {
  it('is one well-formed HTTP/1.1 response that closes the connection, its body the status line', () => {
    for (const status of [400, 408, 413, 431, 501, 505]) {
      const wire = Buffer.from(closingResponse(status), 'latin1');
      const { responses, problem, rest } = parseStrictResponses(wire, true);
      assert.equal(problem, null);
      assert.equal(rest.length, 0);
      assert.equal(responses.length, 1);
      const [response] = responses;
      assert.equal(response?.status, status);
      assert.deepEqual(response?.headers.find(([name]) => name === 'Connection'), ['Connection', 'close']);
      assert.equal(response?.framing, 'content-length');
      assert.equal(response?.body.toString(), `${status} ${response?.reason}\n`);
    }
  });
});

/** A socket as the 'clientError' listener sees it, with Node's response and parser state. */
function fakeSocket(state: { response?: { headersSent: boolean; writableEnded: boolean; shouldKeepAlive: boolean }; incompleteRequest?: boolean } = {}) {
  const socket = new PassThrough() as PassThrough & Record<string, unknown>;
  socket._httpMessage = state.response ?? null;
  socket.parser = state.incompleteRequest === undefined ? null : { incoming: { complete: !state.incompleteRequest } };
  let written = '';
  socket.on('data', (chunk: Buffer) => (written += chunk.toString('latin1')));
  return { socket, written: () => written };
}

describe('answerClientError', () => {
  it('answers a connection with nothing in progress and ends it', async () => {
    const { socket, written } = fakeSocket();
    const refused = answerClientError(parserError('HPE_HEADER_OVERFLOW'), socket);
    assert.equal(refused?.code, 'PORTICO_ERR_HEAD_TOO_LARGE');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(written(), closingResponse(431));
    assert.equal(socket.writableEnded, true);
  });

  it('sends nothing to a client that reset the connection or can no longer be written to', () => {
    const reset = fakeSocket();
    assert.equal(answerClientError(parserError('ECONNRESET'), reset.socket), null);
    assert.equal(reset.socket.destroyed, true);
    const ended = fakeSocket();
    ended.socket.end();
    assert.equal(answerClientError(parserError('HPE_INVALID_METHOD'), ended.socket), null);
    assert.equal(ended.socket.destroyed, true);
  });

  it('lets the response to a complete request finish, then close, when bad bytes follow it', () => {
    const response = { headersSent: false, writableEnded: false, shouldKeepAlive: true };
    const { socket, written } = fakeSocket({ response, incompleteRequest: false });
    assert.equal(answerClientError(parserError('HPE_INVALID_METHOD'), socket), null);
    assert.equal(response.shouldKeepAlive, false);
    assert.equal(socket.destroyed, false);
    assert.equal(written(), '');
  });

  it('cuts the connection when the request being answered is itself broken and its head is out', () => {
    const response = { headersSent: true, writableEnded: false, shouldKeepAlive: true };
    const { socket, written } = fakeSocket({ response, incompleteRequest: true });
    assert.equal(answerClientError(parserError('HPE_INVALID_CHUNK_SIZE'), socket), null);
    assert.equal(socket.destroyed, true);
    assert.equal(written(), '');
  });
});
