/**
 * A CGI request body without Content-Length (chunked), end to end through
 * CgiHandler: spooled whole (request-body-spool.ts), then given to the
 * script with CONTENT_LENGTH (RFC 3875 §4.1.2); over --limit-request-body,
 * or with a trailer field RFC 9110 §6.5.1 forbids, refused before any
 * script starts; and no spool file left behind on any path. Run with both
 * ways of starting scripts.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { eventually } from '../helpers/http-client.js';
import { SYSTEM_PYTHON } from '../helpers/paths.js';
import { RawConnection } from '../helpers/raw-connection.js';
import { header } from '../helpers/raw-response.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { prepareCgiRoot, startCgiServer, type CgiRoot, type CgiServer } from './cgi-test-server.js';

// The spool's files go under os.tmpdir(), which reads $TMPDIR: a directory
// of this test's own, so that anything left behind shows.
const spoolRoot = makeTempDir('portico-spool-root-');
process.env.TMPDIR = spoolRoot.path;

const LIMIT = 2 * 1024 * 1024;

/** Reports CONTENT_LENGTH and the md5 of what it read, and leaves a marker that it ran. */
const BODY_REPORT = `#!/bin/sh
touch "$(dirname "$0")/../body-report.ran"
printf 'Content-Type: text/plain\\n\\n'
printf '%s %s\\n' "\${CONTENT_LENGTH-unset}" "$(md5sum | cut -d' ' -f1)"
`;

const md5 = (data: Buffer): string => createHash('md5').update(data).digest('hex');

/** `body` as chunked framing, in chunks of up to 64 KiB, then `trailers` (`Name: value` lines). */
function chunked(body: Buffer, trailers: string[] = []): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += 65536) {
    const chunk = body.subarray(i, i + 65536);
    parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`0\r\n${trailers.map((t) => `${t}\r\n`).join('')}\r\n`));
  return Buffer.concat(parts);
}

const HEAD = 'POST /cgi-bin/body-report.sh HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n';

for (const python of [SYSTEM_PYTHON, null]) {
  const launcher = python === null ? 'child_process.spawn' : 'spawner';

  describe(`CgiHandler (${launcher}): a request body without Content-Length`, { timeout: 60_000 }, () => {
    let cgi: CgiRoot;
    let server: CgiServer;
    let marker: string;

    before(async () => {
      cgi = prepareCgiRoot();
      writeFileSync(join(cgi.root, 'body-report.sh'), BODY_REPORT, { mode: 0o755 });
      marker = join(cgi.base, 'body-report.ran');
      server = await startCgiServer(cgi.root, { python, limitRequestBody: LIMIT });
    });
    after(async () => {
      await server.close();
      cgi.remove();
    });
    beforeEach(() => rmSync(marker, { force: true }));

    const spoolFilesLeft = (): string[] => readdirSync(spoolRoot.path).filter((name) => name.startsWith('portico-cgi-body-'));

    /** Sends `bytes` after the head on a fresh connection and reads one response. */
    async function send(head: string, bytes: Buffer): Promise<{ status: number; text: string; connection: string | undefined }> {
      const conn = await RawConnection.open(server.port);
      try {
        conn.write(Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), bytes]));
        const [response] = await conn.readResponses(1, 20_000);
        return { status: response!.status, text: response!.body.toString('latin1'), connection: header(response!, 'connection') };
      } finally {
        conn.destroy();
      }
    }

    it('gives a small body to the script with CONTENT_LENGTH', async () => {
      const body = Buffer.from('hello, chunked world');
      const reply = await send(HEAD, chunked(body));
      assert.equal(reply.status, 200);
      assert.equal(reply.text, `${body.length} ${md5(body)}\n`);
      assert.deepEqual(spoolFilesLeft(), []);
    });

    it('gives an empty chunked body as CONTENT_LENGTH 0', async () => {
      const reply = await send(HEAD, chunked(Buffer.alloc(0)));
      assert.equal(reply.status, 200);
      assert.equal(reply.text, `0 ${md5(Buffer.alloc(0))}\n`);
    });

    it('spools a body past 1 MiB to a file, gives it whole, and removes the file after the script', async () => {
      const body = randomBytes(LIMIT - 1000);
      const reply = await send(HEAD, chunked(body));
      assert.equal(reply.status, 200);
      assert.equal(reply.text, `${body.length} ${md5(body)}\n`);
      await eventually('the spool file removed', () => (spoolFilesLeft().length === 0 ? true : undefined), 5_000, 20);
    });

    it('answers 413 for a body over --limit-request-body before any script starts, and closes the connection', async () => {
      const reply = await send(HEAD, chunked(randomBytes(LIMIT + 70_000)));
      assert.equal(reply.status, 413);
      assert.equal(reply.connection?.toLowerCase(), 'close');
      assert.equal(existsSync(marker), false, 'the script never ran');
      await eventually('the spool file removed', () => (spoolFilesLeft().length === 0 ? true : undefined), 5_000, 20);
      assert.match(server.logs(), /PORTICO_ERR_BODY_TOO_LARGE/);
    });

    for (const field of ['Host: evil.example', 'Content-Length: 5', 'Transfer-Encoding: chunked', 'Authorization: Basic eDp5']) {
      it(`answers 400 for '${field.split(':')[0]}' in the trailer section, and runs no script (RFC 9110 §6.5.1)`, async () => {
        const reply = await send(HEAD, chunked(Buffer.from('hello'), [field]));
        assert.equal(reply.status, 400);
        assert.equal(reply.connection?.toLowerCase(), 'close');
        assert.equal(existsSync(marker), false, 'the script never ran');
        assert.match(server.logs(), /PORTICO_ERR_FORBIDDEN_TRAILER/);
      });
    }

    it('serves a body with an ordinary trailer field', async () => {
      const reply = await send(HEAD, chunked(Buffer.from('hello'), ['X-Checksum: 5d41402a']));
      assert.equal(reply.status, 200);
      assert.equal(reply.text, `5 ${md5(Buffer.from('hello'))}\n`);
    });

    it('removes the spool file and runs no script when the client leaves mid-body', async () => {
      const conn = await RawConnection.open(server.port);
      try {
        conn.write(`${HEAD}\r\n`);
        conn.write(chunked(randomBytes(1536 * 1024)).subarray(0, -5)); // past 1 MiB, without the last chunk
        await eventually('the spool file made', () => (spoolFilesLeft().length > 0 ? true : undefined), 5_000, 10);
      } finally {
        conn.destroy();
      }
      await eventually('the spool file removed', () => (spoolFilesLeft().length === 0 ? true : undefined), 5_000, 20);
      assert.equal(existsSync(marker), false, 'the script never ran');
    });

    it('answers Expect: 100-continue with 100 before reading the body', async () => {
      const conn = await RawConnection.open(server.port);
      try {
        conn.write(`${HEAD}Expect: 100-continue\r\n\r\n`);
        const continued = await conn.waitFor((received) => received.toString('latin1').startsWith('HTTP/1.1 100 Continue\r\n\r\n'), 5_000);
        assert.ok(continued, `got ${JSON.stringify(conn.text)}`);
        conn.consume();
        conn.write(chunked(Buffer.from('after 100')));
        // The harness's bare http.Server sends a 100 of its own as well (the
        // listener stops Node from doing so): the final response is the one.
        const responses = await conn.readResponses(1);
        const response = responses[0]!.status === 100 ? (await conn.readResponses(2))[1] : responses[0];
        assert.equal(response!.status, 200);
        assert.equal(response!.body.toString('latin1'), `9 ${md5(Buffer.from('after 100'))}\n`);
      } finally {
        conn.destroy();
      }
    });
  });
}

after(() => spoolRoot.remove());
