/**
 * The CgiHandler's behaviour, against a real HTTP server and real scripts.
 * Defined once and run for both ways of starting scripts: through the
 * spawner helper (the default) and with child_process.spawn (the fallback
 * when no Python can run the helper); the two test files call it.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SAFE_PATH } from '../../src/cgi/cgi-environment.js';
import { eventually, sleep } from '../helpers/http-client.js';
import { isRunning } from '../helpers/proc.js';
import { killPids, loggedPids, prepareCgiRoot, request, startCgiServer, type CgiRoot, type CgiServer } from './cgi-test-server.js';

interface EnvReport {
  env: Record<string, string>;
  argv: string[];
  argv0: string;
  cwd: string;
}

/** `python` runs the spawner; null starts scripts with child_process.spawn. */
export function cgiHandlerSuite(python: string | null): void {
  const launcher = python === null ? 'child_process.spawn' : 'spawner';
  let cgi: CgiRoot;
  let server: CgiServer;

  before(async () => {
    cgi = prepareCgiRoot();
    server = await startCgiServer(cgi.root, { python });
  });
  after(async () => {
    await server.close();
    cgi.remove();
  });

  describe(`CgiHandler (${launcher}): scripts in three languages`, { timeout: 30_000 }, () => {
    it('runs a shell script', async () => {
      const reply = await request(server.port, '/cgi-bin/hello.sh?x=1');
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['content-type'], 'text/plain');
      assert.equal(reply.text, 'hello from sh, query=x=1\n');
    });

    it('starts a script with default signal dispositions, nothing blocked and no socket of the server open', async () => {
      const reply = await request(server.port, '/cgi-bin/process-state.pl');
      assert.equal(reply.status, 200);
      const ignored = BigInt(`0x${/SigIgn:\s*([0-9a-f]+)/.exec(reply.text)?.[1] ?? 'ff'}`);
      // Signals 1-31: a Python parent ignores SIGPIPE and SIGXFSZ, which exec
      // would pass on; perl itself ignores SIGFPE (bit 7). Above 31, glibc's
      // posix_spawn leaves its two internal signals ignored, by design.
      assert.equal(ignored & 0x7fffffffn & ~(1n << 7n), 0n, reply.text);
      assert.match(reply.text, /SigBlk:\s*0+\n/);
      assert.doesNotMatch(reply.text, /-> socket:/);
    });

    it('runs a Perl script, with SCRIPT_NAME and PATH_INFO split at the script', async () => {
      const reply = await request(server.port, '/cgi-bin/sub/echo-env.pl/extra/path');
      assert.equal(reply.status, 200);
      const report = JSON.parse(reply.text) as EnvReport;
      assert.equal(report.env.SCRIPT_NAME, '/cgi-bin/sub/echo-env.pl');
      assert.equal(report.env.PATH_INFO, '/extra/path');
    });

    it('runs a Python script in a subdirectory', async () => {
      const reply = await request(server.port, '/cgi-bin/sub/hello.py/a/b');
      assert.equal(reply.text, 'script=/cgi-bin/sub/hello.py path_info=/a/b\n');
    });

    it('serves cgi.FieldStorage a GET query', async () => {
      const reply = await request(server.port, '/cgi-bin/form.py?name=Ada&tag=a&tag=b');
      assert.equal(reply.status, 200, reply.text);
      assert.deepEqual(JSON.parse(reply.text), { name: 'Ada', tag: ['a', 'b'] });
    });

    it('serves cgi.FieldStorage a urlencoded POST form', async () => {
      const body = 'name=Grace+Hopper&lang=COBOL';
      const reply = await request(server.port, '/cgi-bin/form.py', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
        body,
      });
      assert.deepEqual(JSON.parse(reply.text), { name: 'Grace Hopper', lang: 'COBOL' });
    });

    it('serves cgi.FieldStorage a multipart upload', async () => {
      const boundary = 'portico-boundary-1234';
      const file = Buffer.alloc(100_000, 'x');
      file.write('PNGHEADER', 0, 'latin1');
      const body = Buffer.concat([
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nholiday\r\n`),
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="upload"; filename="photo.png"\r\nContent-Type: image/png\r\n\r\n`),
        file,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const reply = await request(server.port, '/cgi-bin/form.py', {
        method: 'POST',
        headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': body.length },
        body,
      });
      assert.deepEqual(JSON.parse(reply.text), {
        title: 'holiday',
        upload: { filename: 'photo.png', length: 100_000, head: 'PNGHEADERxxxxxxx' },
      });
    });
  });

  describe(`CgiHandler (${launcher}): meta-variables (RFC 3875 §4.1)`, { timeout: 30_000 }, () => {
    it('gives the script exactly the meta-variables and PATH, no argv, its own directory as cwd', async () => {
      const body = 'a=1';
      const reply = await request(server.port, '/cgi-bin/sub/echo-env.pl/extra/some%20where?q=%20x&isindex+words', {
        method: 'POST',
        headers: {
          Host: 'cgi.example:8080',
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': Buffer.byteLength(body),
          Authorization: 'Basic dXNlcjpzZWNyZXQ=',
          'Proxy-Authorization': 'Basic cHJveHk6c2VjcmV0',
          Proxy: 'http://attacker.example:3128',
          'X_Under': 'spoofed',
          'X-Custom': 'custom value',
          Cookie: ['a=1', 'b=2'],
        },
        body,
      });
      assert.equal(reply.status, 200, reply.text);
      const { env, argv, argv0, cwd } = JSON.parse(reply.text) as EnvReport;
      const filename = join(cgi.root, 'sub', 'echo-env.pl');
      assert.deepEqual(argv, [], 'no argv from the query string, even an ISINDEX one');
      assert.equal(argv0, filename);
      assert.equal(cwd, dirname(filename));

      const expected: Record<string, string> = {
        AUTH_TYPE: 'Basic',
        CONTENT_LENGTH: '3',
        CONTENT_TYPE: 'application/x-www-form-urlencoded',
        GATEWAY_INTERFACE: 'CGI/1.1',
        PATH: SAFE_PATH,
        PATH_INFO: '/extra/some where',
        PATH_TRANSLATED: `${cgi.root}/extra/some where`,
        QUERY_STRING: 'q=%20x&isindex+words',
        REMOTE_ADDR: '127.0.0.1',
        REMOTE_HOST: '127.0.0.1',
        REQUEST_METHOD: 'POST',
        SCRIPT_NAME: '/cgi-bin/sub/echo-env.pl',
        SCRIPT_FILENAME: filename,
        SERVER_NAME: 'cgi.example',
        SERVER_PORT: '8080',
        SERVER_PROTOCOL: 'HTTP/1.1',
        SERVER_SOFTWARE: 'portico',
        HTTP_HOST: 'cgi.example:8080',
        HTTP_X_CUSTOM: 'custom value',
        HTTP_COOKIE: 'a=1; b=2',
        HTTP_CONNECTION: 'close',
      };
      assert.deepEqual(env, expected, 'nothing else: no server environment, no HTTP_PROXY, HTTP_X_UNDER, HTTP_AUTHORIZATION');
      assert.equal(env.REMOTE_USER, undefined, 'nobody authenticated, so no REMOTE_USER');
    });

    it('omits PATH_TRANSLATED, CONTENT_*, AUTH_TYPE when there is nothing to say', async () => {
      const reply = await request(server.port, '/cgi-bin/sub/echo-env.pl');
      const { env } = JSON.parse(reply.text) as EnvReport;
      assert.equal(env.PATH_INFO, '');
      for (const name of ['PATH_TRANSLATED', 'CONTENT_LENGTH', 'CONTENT_TYPE', 'AUTH_TYPE', 'REMOTE_USER', 'HTTP_PROXY']) {
        assert.equal(env[name], undefined, name);
      }
      assert.equal(env.SERVER_NAME, '127.0.0.1');
      assert.equal(env.SERVER_PORT, String(server.port));
      assert.equal(env.REQUEST_METHOD, 'GET');
      assert.equal(env.QUERY_STRING, '');
    });
  });

  describe(`CgiHandler (${launcher}): response header block (RFC 3875 §6)`, { timeout: 30_000 }, () => {
    it('honours Status, passes headers through, drops hop-by-hop ones', async () => {
      const reply = await request(server.port, '/cgi-bin/status.sh');
      assert.equal(reply.status, 418);
      assert.equal(reply.statusMessage, "I'm a teapot");
      assert.equal(reply.headers['x-custom'], 'kept');
      assert.deepEqual(reply.headers['set-cookie'], ['a=1', 'b=2']);
      assert.notEqual(reply.headers.connection, 'x-drop');
      assert.notEqual(reply.headers['transfer-encoding'], 'x-drop');
      assert.equal(reply.headers.upgrade, undefined);
      assert.equal(reply.headers.status, undefined, 'Status is for the server, not the client');
      assert.equal(reply.text, 'teapot\n');
    });

    it('accepts CRLF line ends', async () => {
      const reply = await request(server.port, '/cgi-bin/crlf.sh');
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['x-line-ends'], 'crlf');
      assert.equal(reply.text, 'crlf body');
    });

    it('follows a local Location itself, as a GET of that path', async () => {
      const reply = await request(server.port, '/cgi-bin/redirect-local.sh');
      assert.equal(reply.status, 200);
      assert.equal(reply.text, 'hello from sh, query=from=redirect\n');
    });

    it('answers an absolute Location with 302', async () => {
      const reply = await request(server.port, '/cgi-bin/redirect-absolute.sh');
      assert.equal(reply.status, 302);
      assert.equal(reply.headers.location, 'http://example.com/elsewhere');
    });

    it('keeps the script Status on a client redirect with a document', async () => {
      const reply = await request(server.port, '/cgi-bin/redirect-status.sh');
      assert.equal(reply.status, 301);
      assert.equal(reply.headers.location, 'http://example.com/moved');
      assert.equal(reply.text, 'moved\n');
    });

    it('stops a local redirect loop with 500', async () => {
      const reply = await request(server.port, '/cgi-bin/redirect-loop.sh');
      assert.equal(reply.status, 500);
      assert.match(server.logs(), /more than 10 local redirects/);
    });

    it('answers 500 for a local redirect when the server gave no way to follow it', async () => {
      const plain = await startCgiServer(cgi.root, { python, followRedirects: false });
      try {
        const reply = await request(plain.port, '/cgi-bin/redirect-local.sh');
        assert.equal(reply.status, 500);
        assert.match(plain.logs(), /PORTICO_ERR_CGI_REDIRECT/);
      } finally {
        await plain.close();
      }
    });

    it('streams the body as the script writes it', async () => {
      const started = Date.now();
      const firstChunkAt = await new Promise<number>((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: server.port, path: '/cgi-bin/streaming.sh', agent: false }, (res) => {
          let text = '';
          let first = 0;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (first === 0) first = Date.now();
            text += chunk;
          });
          res.on('end', () => (text === 'first\nsecond\n' ? resolve(first - started) : reject(new Error(`body ${JSON.stringify(text)}`))));
        });
        req.on('error', reject);
        req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
      });
      assert.ok(firstChunkAt < 900, `first chunk after ${firstChunkAt} ms: the body was held back`);
    });

    it('streams a large request body to stdin', async () => {
      const body = Buffer.alloc(3 * 1024 * 1024, 'b');
      const reply = await request(server.port, '/cgi-bin/echo-stdin.sh', { method: 'POST', headers: { 'Content-Length': body.length }, body });
      assert.equal(reply.text, String(body.length));
    });

    it('gives a chunked request body to stdin whole, in memory or spooled to a file (§4.1.2: CONTENT_LENGTH is then known)', async () => {
      const small = await request(server.port, '/cgi-bin/echo-stdin.sh', { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, body: 'abc' });
      assert.equal(small.status, 200);
      assert.equal(small.text, '3');
      const body = Buffer.alloc(3 * 1024 * 1024, 'c');
      const large = await request(server.port, '/cgi-bin/echo-stdin.sh', { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' }, body });
      assert.equal(large.status, 200);
      assert.equal(large.text, String(body.length));
    });

    it('logs stderr lines tagged with the script pid', async () => {
      const reply = await request(server.port, '/cgi-bin/stderr.sh');
      const pid = reply.text;
      assert.match(pid, /^\d+$/);
      await eventually('stderr logged', () => (server.logs().includes('stderr line two') ? true : undefined), 5_000, 20);
      assert.match(server.logs(), new RegExp(`\\[${pid}\\] \\[ERROR\\] stderr line one`));
      assert.match(server.logs(), new RegExp(`\\[${pid}\\] \\[ERROR\\] stderr line two <b>`));
    });
  });

  describe(`CgiHandler (${launcher}): nph- scripts (RFC 3875 §5)`, { timeout: 30_000 }, () => {
    it('sends the script output raw and closes the connection, even with a request pipelined behind', async () => {
      const socket = connect(server.port, '127.0.0.1');
      const received = await new Promise<string>((resolve, reject) => {
        let data = '';
        socket.setEncoding('latin1');
        socket.on('data', (chunk: string) => (data += chunk));
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
        socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
        socket.write('GET /cgi-bin/nph-raw.sh HTTP/1.1\r\nHost: x\r\n\r\nGET /cgi-bin/hello.sh HTTP/1.1\r\nHost: x\r\n\r\n');
      });
      assert.equal(received, 'HTTP/1.1 299 Raw Status\r\nContent-Type: text/plain\r\nX-Nph: yes\r\n\r\nraw body from nph\n');
    });
  });

  describe(`CgiHandler (${launcher}): faults`, { timeout: 30_000 }, () => {
    for (const [script, why] of [
      ['no-header.sh', 'exits before writing headers'],
      ['bad-header.sh', 'writes no header block'],
      ['no-cgi-field.sh', 'has no CGI field in its header block'],
      ['partial-header.sh', 'ends inside its header block'],
    ] as const) {
      it(`answers 502 with no detail when a script ${why}`, async () => {
        const reply = await request(server.port, `/cgi-bin/${script}`);
        assert.equal(reply.status, 502);
        assert.equal(reply.text, '502 Bad Gateway\n');
        assert.match(server.logs(), /PORTICO_ERR_CGI_(NO|BAD)_HEADER/);
      });
    }

    it('shows stderr, HTML-escaped, on the error page in debug mode', async () => {
      const debug = await startCgiServer(cgi.root, { python, debug: true });
      try {
        const reply = await request(debug.port, '/cgi-bin/no-header.sh');
        assert.equal(reply.status, 502);
        assert.match(String(reply.headers['content-type']), /^text\/html/);
        assert.match(reply.text, /no-header\.sh failed: &#60;script&#62;alert\(1\)&#60;\/script&#62;/);
        assert.doesNotMatch(reply.text, /<script>/);
      } finally {
        await debug.close();
      }
    });

    for (const [path, status] of [
      ['/cgi-bin/missing.sh', 404],
      ['/cgi-bin/sub/missing.sh/x', 404],
      ['/cgi-bin/not-executable.sh', 403],
      ['/cgi-bin/sub', 403],
      ['/cgi-bin/sub/', 403],
      ['/cgi-bin', 403],
      ['/cgi-bin/.hidden.sh', 403],
      ['/cgi-bin/no-shebang', 500],
    ] as const) {
      it(`answers ${status} for ${path}`, async () => {
        const reply = await request(server.port, path);
        assert.equal(reply.status, status);
      });
    }

    it('never lets a file without #! reach execvp, which would hand it to /bin/sh', async () => {
      await request(server.port, '/cgi-bin/no-shebang');
      assert.equal(existsSync(join(cgi.root, 'no-shebang.ran')), false);
    });

    it('kills the whole process group and answers 504 when a script runs too long', async () => {
      const quick = await startCgiServer(cgi.root, { python, timeoutSeconds: 1 });
      let pids: [number, number] | undefined;
      try {
        const started = Date.now();
        const reply = await request(quick.port, '/cgi-bin/sleeper.sh');
        assert.equal(reply.status, 504);
        assert.ok(Date.now() - started < 5_000);
        pids = loggedPids(quick.logs());
        assert.ok(pids, 'the script printed its pids');
        const [leader, child] = pids;
        await eventually('script and its child gone', () => (!isRunning(leader) && !isRunning(child) ? true : undefined), 5_000, 50);
        assert.match(quick.logs(), /PORTICO_ERR_CGI_TIMEOUT|ran longer than 1 s/);
      } finally {
        if (pids) killPids(pids);
        await quick.close();
      }
    });

    it('kills the whole process group when the client goes away', async () => {
      let pids: [number, number] | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          const req = http.get({ host: '127.0.0.1', port: server.port, path: '/cgi-bin/slow-body.sh', agent: false }, (res) => {
            res.once('data', () => {
              req.destroy();
              resolve();
            });
          });
          req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
          req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
        });
        pids = await eventually('pids logged', () => loggedPids(server.logs().slice(server.logs().lastIndexOf('pids '))), 5_000, 20);
        const [leader, child] = pids;
        await eventually('script and its child gone', () => (!isRunning(leader) && !isRunning(child) ? true : undefined), 5_000, 50);
      } finally {
        if (pids) killPids(pids);
      }
    });
    it('kills a script that has not answered yet when the client goes away, and logs no fault against it', async () => {
      const logsBefore = server.logs().length;
      let pids: [number, number] | undefined;
      try {
        const socket = connect(server.port, '127.0.0.1');
        socket.on('error', () => {});
        socket.write('GET /cgi-bin/sleeper.sh HTTP/1.1\r\nHost: x\r\n\r\n');
        pids = await eventually('pids logged', () => loggedPids(server.logs().slice(logsBefore)), 5_000, 20);
        socket.destroy();
        const [leader, child] = pids;
        await eventually('script and its child gone', () => (!isRunning(leader) && !isRunning(child) ? true : undefined), 5_000, 50);
        await sleep(100);
        const logged = server.logs().slice(logsBefore);
        assert.doesNotMatch(logged, /PORTICO_ERR_CGI|exited with/, logged);
      } finally {
        if (pids) killPids(pids);
      }
    });
  });

  describe(`CgiHandler (${launcher}): nothing outside the CGI directory runs`, { timeout: 30_000 }, () => {
    // The test route decodes but does not resolve dot segments: these reach the handler as sent.
    const attempts = [
      '/cgi-bin/../outside.sh',
      '/cgi-bin/%2e%2e/outside.sh',
      '/cgi-bin/%2E%2e/outside.sh',
      '/cgi-bin/..%2foutside.sh',
      '/cgi-bin/sub/..%2f..%2foutside.sh',
      '/cgi-bin/%2e%2e%2foutside.sh',
      '/cgi-bin/..%5coutside.sh',
      '/cgi-bin/%5c..%5coutside.sh',
      '/cgi-bin/hello.sh%00/../../outside.sh',
      '/cgi-bin/%00',
      '/cgi-bin/%252e%252e/outside.sh',
      '/cgi-bin/sub/%252e%252e%252f..%252foutside.sh',
      '/cgi-bin/./../outside.sh',
      '/cgi-bin/escape.sh',
      '/cgi-bin/outdir/outside.sh',
      '/cgi-bin/outdir/../../outside.sh',
    ];
    for (const path of attempts) {
      it(`refuses ${path}`, async () => {
        const reply = await request(server.port, path);
        assert.ok([400, 403, 404].includes(reply.status), `status ${reply.status}`);
        assert.doesNotMatch(reply.text, /OUTSIDE RAN/);
        assert.equal(existsSync(cgi.outsideMarker), false, 'the canary outside the root ran');
      });
    }

    it('still follows a symlink that stays inside the root', async () => {
      const reply = await request(server.port, '/cgi-bin/link-hello.sh');
      assert.equal(reply.status, 200);
      assert.match(reply.text, /hello from sh/);
    });
  });

  describe(`CgiHandler (${launcher}): close`, { timeout: 30_000 }, () => {
    it('kills the running scripts once the grace time is over', async () => {
      const own = await startCgiServer(cgi.root, { python });
      let pids: [number, number] | undefined;
      try {
        const pending = request(own.port, '/cgi-bin/sleeper.sh').catch(() => null);
        pids = await eventually('pids logged', () => loggedPids(own.logs()), 5_000, 20);
        await own.handler.close(100);
        const [leader, child] = pids;
        await eventually('script and its child gone', () => (!isRunning(leader) && !isRunning(child) ? true : undefined), 5_000, 50);
        await Promise.race([pending, sleep(2_000)]);
      } finally {
        if (pids) killPids(pids);
        await own.close();
      }
    });
  });
}
