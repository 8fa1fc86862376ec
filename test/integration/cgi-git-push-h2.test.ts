/**
 * cgi-git-push.test.ts's push over HTTP/2 (#16): git's curl speaks h2 over
 * TLS (http.version=HTTP/2) to git-http-backend on a --cgi mount. A request
 * body there has no declared length (DATA frames without content-length),
 * so it takes the spool a chunked one does (src/cgi/request-body-spool.ts)
 * and the script gets CONTENT_LENGTH. A 20 MB file is pushed, then a fresh
 * clone, over HTTP/2 too, must give it back byte for byte.
 *
 * git runs with an environment of the test's own (a private HOME, no system
 * config, no proxy variables), so the machine's git configuration cannot
 * change what is tested.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startHttps } from '../helpers/https-client.js';
import type { Portico } from '../helpers/portico.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);
const BIG_FILE_BYTES = 20 * 1024 * 1024;

/** git's own location for its helpers (git-http-backend lives there), or null without git. */
async function gitExecPath(): Promise<string | null> {
  try {
    return (await run('git', ['--exec-path'])).stdout.trim();
  } catch {
    return null;
  }
}

describe('git push and clone over HTTP/2 through git-http-backend on a CGI mount', { timeout: 180_000 }, () => {
  const temp = makeTempDir('portico-git-push-h2-');
  let pki: TestPki;
  const home = join(temp.path, 'home');
  const repos = join(temp.path, 'repos');
  const cgiBin = join(temp.path, 'cgi-bin');
  const curlTrace = join(temp.path, 'curl-trace.log');
  /** portico's $TMPDIR, where the spool makes its files. */
  const serverTmp = join(temp.path, 'server-tmp');
  let server: Portico | undefined;
  let remote: string;

  /** The environment every git command runs with: nothing of the machine's git setup. */
  const gitEnv = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
  };

  const git = async (cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> => {
    const config = [
      '-c', 'user.name=Portico Test', '-c', 'user.email=test@portico.invalid', '-c', 'init.defaultBranch=main', '-c', 'protocol.version=2',
      '-c', 'http.version=HTTP/2', '-c', `http.sslCAInfo=${pki.ca.cert}`,
    ];
    try {
      const { stdout } = await run('git', [...config, ...args], { cwd, env: { ...gitEnv, ...env }, maxBuffer: 16 * 1024 * 1024 });
      return stdout;
    } catch (error) {
      const { stderr, message } = error as { stderr?: string; message: string };
      throw new Error(`git ${args.join(' ')}: ${message}\n${stderr ?? ''}\nportico:\n${server?.logs() ?? ''}`);
    }
  };

  before(async () => {
    const execPath = await gitExecPath();
    const backend = execPath === null ? null : join(execPath, 'git-http-backend');
    if (backend === null || !existsSync(backend)) {
      throw new Error('git-http-backend is missing: install Debian\'s git (scripts/install-system-deps.sh does)');
    }
    for (const dir of [home, repos, cgiBin, serverTmp]) mkdirSync(dir);
    pki = makeTestPki();
    await git(repos, ['init', '--quiet', '--bare', 'project.git']);
    // REMOTE_USER is never set (portico authenticates nobody), so pushing must be allowed outright.
    await git(join(repos, 'project.git'), ['config', 'http.receivepack', 'true']);
    // A CGI mount passes no environment of its own: a wrapper names the repositories.
    writeFileSync(
      join(cgiBin, 'git'),
      `#!/bin/sh\nGIT_PROJECT_ROOT='${repos}'\nGIT_HTTP_EXPORT_ALL=1\nexport GIT_PROJECT_ROOT GIT_HTTP_EXPORT_ALL\nexec '${backend}'\n`,
      { mode: 0o755 },
    );
    server = await startHttps({
      app: null,
      args: ['--cgi', `/git/=${cgiBin}`, '--certfile', pki.server.chain, '--keyfile', pki.server.key],
      ready: /listening on https:\/\/([^\s:/]+):(\d+)/,
      env: { TMPDIR: serverTmp },
    });
    // The certificate is for localhost.
    remote = `https://localhost:${server.port}/git/git/project.git`;
  });

  after(async () => {
    await server?.stop();
    pki?.remove();
    temp.remove();
  });

  it('pushes a 20 MB file over HTTP/2, with no declared length, and a fresh clone has it byte for byte', async () => {
    const first = join(temp.path, 'first');
    await git(temp.path, ['clone', '--quiet', remote, first]);
    const big = randomBytes(BIG_FILE_BYTES);
    writeFileSync(join(first, 'big.bin'), big);
    writeFileSync(join(first, 'README'), 'pushed through portico\n');
    await git(first, ['add', 'big.bin', 'README']);
    await git(first, ['commit', '--quiet', '-m', 'a file larger than http.postBuffer']);
    // The trace shows the request heads only (no data): it proves the push went over HTTP/2 without a length.
    await git(first, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], { GIT_TRACE_CURL: curlTrace, GIT_TRACE_CURL_NO_DATA: '1' });
    const trace = readFileSync(curlTrace, 'latin1');
    assert.match(trace, /ALPN: server accepted h2|ALPN, server accepted to use h2/);
    // Each request's fields as curl lists them (h2h3 [...] lines) up to its 'Send header' line: git probes with a
    // 4-byte POST first, then sends the pack with no content-length.
    const posts = trace.split(/h2h3 \[:method: /).filter((request) => request.startsWith('POST]') && request.includes('git-receive-pack]'));
    const heads = posts.map((request) => request.slice(0, request.indexOf('=> Send header')));
    assert.ok(heads.some((head) => !/content-length/i.test(head)), `the pack went without a declared length:\n${heads.join('\n---\n')}`);
    assert.match(trace, /HTTP\/2 200/);
    assert.doesNotMatch(trace, /HTTP\/2 411/);

    const second = join(temp.path, 'second');
    await git(temp.path, ['clone', '--quiet', remote, second]);
    const cloned = readFileSync(join(second, 'big.bin'));
    assert.equal(cloned.length, big.length);
    assert.ok(cloned.equals(big), 'the cloned file is the pushed one, byte for byte');
    assert.equal(readFileSync(join(second, 'README'), 'utf8'), 'pushed through portico\n');
    // Nothing was refused on the way, and the spool left no file behind.
    assert.doesNotMatch(server?.logs() ?? '', /PORTICO_ERR_/);
    assert.deepEqual(readdirSync(serverTmp).filter((name) => name.startsWith('portico-cgi-body-')), []);
  });
});
