/**
 * PEP 3333 protocol violations by the app: a 500 while nothing was sent,
 * an aborted connection after; a malformed response never reaches the
 * client; the log names the violation. The fixture is not validated.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { eventually, httpRequest } from '../helpers/http-client.js';
import { RawConnection, exchangeRaw, rawRequest } from '../helpers/raw-connection.js';
import { header, parseResponses } from '../helpers/raw-response.js';

const VIOLATION = /WSGI protocol violation/g;

/** Path, and text that must never reach the client. */
const BEFORE_ANY_BODY: Array<[string, string[]]> = [
  ['/no-start-response', ['body without a status']],
  ['/start-response-twice', ['twice']],
  ['/returns-str', ['a str, not bytes']],
  ['/returns-none', []],
  ['/yields-str', ['a str chunk']],
  ['/status-crlf', ['X-Injected', 'malformed response body']],
  ['/status-control', ['malformed response body']],
  ['/header-value-crlf', ['X-Injected', 'malformed response body']],
  ['/header-value-lf', ['X-Injected', 'malformed response body']],
  ['/header-value-nul', ['X-Injected', 'malformed response body']],
  ['/header-name-control', ['malformed response body']],
  ['/header-name-crlf', ['X-Injected', 'malformed response body']],
  ['/hop-connection', ['x-app-token', 'malformed response body']],
  ['/hop-transfer-encoding', ['malformed response body']],
  ['/hop-keep-alive', ['timeout=77', 'malformed response body']],
  ['/hop-upgrade', ['websocket', 'malformed response body']],
];

describe('WSGI protocol violations', { timeout: 90_000 }, () => {
  let server: Portico;
  before(async () => {
    server = await startPortico(fixtureApp('violations_app'));
  });
  after(async () => {
    await server?.stop();
  });

  const violationsLogged = (): number => (server.logs().match(VIOLATION) ?? []).length;

  for (const [path, forbidden] of BEFORE_ANY_BODY) {
    it(`${path}: 500, nothing malformed sent, violation logged`, async () => {
      const logged = violationsLogged();
      const conn = await RawConnection.open(server.port);
      try {
        conn.write(rawRequest('GET', path));
        const [response] = await conn.readResponses(1, 5_000);
        assert.equal(response?.status, 500, conn.text);
        for (const text of forbidden) assert.ok(!conn.text.includes(text), `"${text}" reached the client: ${JSON.stringify(conn.text)}`);
        assert.equal(header(response, 'Upgrade'), undefined);
      } finally {
        conn.destroy();
      }
      await eventually(`a "WSGI protocol violation" line for ${path}`, () => (violationsLogged() > logged ? true : undefined), 5_000);
    });
  }

  it('aborts the connection on a violation after the body started', async () => {
    const logged = violationsLogged();
    const { received, text, closed } = await exchangeRaw(server.port, rawRequest('GET', '/yields-str-late'));
    assert.ok(closed, 'connection closed');
    assert.ok(!text.includes('a str chunk after bytes went out'));
    assert.equal(parseResponses(received, false).responses.length, 0, `no complete response: ${JSON.stringify(text)}`);
    await eventually('a "WSGI protocol violation" line', () => (violationsLogged() > logged ? true : undefined), 5_000);
  });

  it('keeps the worker serving after violations', async () => {
    const result = await httpRequest(`${server.url}/pid`);
    assert.equal(result.status, 200);
    assert.match(result.text, /^\d+$/);
  });
});
