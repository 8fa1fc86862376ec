/**
 * A client chooses the request bytes that a refusal's log line quotes: they
 * must not grow the line without bound, forge a line of their own (CR, LF)
 * or reach the terminal that shows the log (ANSI and C1 escapes). See
 * src/observability/quote-for-log.ts. The site is a static mount alone, so
 * no Python worker is involved.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPortico, type Portico } from '../helpers/portico.js';
import { eventually } from '../helpers/http-client.js';
import { exchangeRaw } from '../helpers/raw-connection.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { LOG_QUOTE_LIMIT } from '../../src/observability/quote-for-log.js';

/** A control character that is not the line ends the log itself writes. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
/** How long any log line about one request may be: the quoted part, its cut note and the line's own words. */
const LONGEST_LINE = LOG_QUOTE_LIMIT + 300;

describe('request data in log lines', { timeout: 60_000 }, () => {
  const temp = makeTempDir();
  let server: Portico;

  before(async () => {
    const root = join(temp.path, 'public');
    mkdirSync(root);
    writeFileSync(join(root, 'index.html'), 'hello\n');
    server = await startPortico({
      app: null,
      args: ['--static', `/static/=${root}`, '--log-level', 'debug'],
      ready: /listening on http:\/\/([^\s:/]+):(\d+)/,
    });
  });
  after(async () => {
    await server?.stop();
    temp.remove();
  });

  /** The log lines that name `marker`, once there is one. */
  async function linesNaming(marker: string): Promise<string[]> {
    return eventually(`a log line naming ${marker}`, () => {
      const lines = server.logs().split('\n').filter((line) => line.includes(marker));
      return lines.length > 0 ? lines : undefined;
    }, 5_000, 20);
  }

  it('quotes at most a few hundred bytes of a 64 KB request line (414), and says how many it cut', async () => {
    const target = `/long-${'a'.repeat(64 * 1024)}`;
    const reply = await exchangeRaw(server.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    assert.match(reply.text, /^HTTP\/1\.1 414 /);
    const [line, ...more] = await linesNaming('refused GET /long-');
    assert.equal(more.length, 0, 'one line for one refusal');
    assert.ok((line as string).length < LONGEST_LINE, `the line is ${(line as string).length} characters long`);
    const quoted = `GET ${target}`;
    assert.ok((line as string).includes(`...[${quoted.length - LOG_QUOTE_LIMIT} more bytes]`), `it says what it cut: ${line}`);
    assert.match(line as string, /414 PORTICO_ERR_REQUEST_LINE_TOO_LONG/);
  });

  it('escapes CR, LF and ANSI escapes that a client percent-encodes into a path, so that it forges no line', async () => {
    // Decoded by the router, PATH_INFO holds the raw bytes; the NUL makes the static mount refuse it, in a debug line.
    const forged = '%00%0d%0a[2026-01-01%2000:00:00%20+0000]%20[1]%20[CRITICAL]%20forged-by-client%1b[2J%1b]0;title%07';
    const reply = await exchangeRaw(server.port, `GET /static/${forged} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    assert.match(reply.text, /^HTTP\/1\.1 400 /);
    const lines = await linesNaming('forged-by-client');
    assert.equal(lines.length, 1, `one line, not two:\n${lines.join('\n')}`);
    assert.match(lines[0] as string, /\[DEBUG\] static: refused "\/\\x00\\x0D\\x0A\[2026-01-01 00:00:00 \+0000\] \[1\] \[CRITICAL\] forged-by-client\\x1B\[2J\\x1B\]0;title\\x07": NUL byte/);
    assert.doesNotMatch(server.logs(), /^\[2026-01-01 00:00:00 \+0000\] \[1\]/m, 'no line starts where the client wanted');
  });

  it('escapes C1 controls and other non-ASCII bytes of a header value (a 400 for a bad Host)', async () => {
    // llhttp lets obs-text (0x80-0xFF) through in field values; 0x9B is the 8-bit CSI.
    const host = 'c1-marker\x9b2J\x85\xe9';
    const reply = await exchangeRaw(server.port, Buffer.from(`GET /static/index.html HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 'latin1'));
    assert.match(reply.text, /^HTTP\/1\.1 400 /);
    const [line] = await linesNaming('c1-marker');
    assert.ok((line as string).includes("Host 'c1-marker\\x9B2J\\x85\\xE9'"), line);
  });

  it('cuts a 9 KB header name quoted by a 431', async () => {
    const name = `X-Name-Marker-${'n'.repeat(9000)}`;
    const reply = await exchangeRaw(server.port, `GET /static/index.html HTTP/1.1\r\nHost: 127.0.0.1\r\n${name}: v\r\n\r\n`);
    assert.match(reply.text, /^HTTP\/1\.1 431 /);
    const [line] = await linesNaming('X-Name-Marker-');
    assert.ok((line as string).length < LONGEST_LINE, `the line is ${(line as string).length} characters long`);
    assert.ok((line as string).includes(`...[${name.length - LOG_QUOTE_LIMIT} more bytes]`), line);
  });

  it('leaves no control character anywhere in the log', () => {
    const bad = server.logs().split('\n').filter((line) => CONTROL.test(line));
    assert.deepEqual(bad, []);
  });
});
