/**
 * The most used CGI program today, driven by its own client: git's smart
 * HTTP through git-http-backend on a --cgi mount. A push of more than
 * http.postBuffer (1 MiB by default) goes out chunked, which portico once
 * refused with 411 (#16); now the body is spooled and the script gets
 * CONTENT_LENGTH. A 20 MB file is pushed with git's defaults, then a fresh
 * clone must give it back byte for byte.
 *
 * git runs with an environment of the test's own (a private HOME, no system
 * config, no proxy variables), so the machine's git configuration cannot
 * change what is tested. The same push over HTTP/2, where a body has no
 * declared length either, is cgi-git-push-h2.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startPortico, type Portico } from '../helpers/portico.js';
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

describe('git push and clone through git-http-backend on a CGI mount', { timeout: 180_000 }, () => {
  const temp = makeTempDir('portico-git-push-');
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
    const config = ['-c', 'user.name=Portico Test', '-c', 'user.email=test@portico.invalid', '-c', 'init.defaultBranch=main', '-c', 'protocol.version=2'];
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
    await git(repos, ['init', '--quiet', '--bare', 'project.git']);
    // REMOTE_USER is never set (portico authenticates nobody), so pushing must be allowed outright.
    await git(join(repos, 'project.git'), ['config', 'http.receivepack', 'true']);
    // A CGI mount passes no environment of its own: a wrapper names the repositories.
    writeFileSync(
      join(cgiBin, 'git'),
      `#!/bin/sh\nGIT_PROJECT_ROOT='${repos}'\nGIT_HTTP_EXPORT_ALL=1\nexport GIT_PROJECT_ROOT GIT_HTTP_EXPORT_ALL\nexec '${backend}'\n`,
      { mode: 0o755 },
    );
    server = await startPortico({
      app: null,
      args: ['--cgi', `/git/=${cgiBin}`],
      ready: /listening on http:\/\/([^\s:/]+):(\d+)/,
      env: { TMPDIR: serverTmp },
    });
    remote = `${server.url}/git/git/project.git`;
  });

  after(async () => {
    await server?.stop();
    temp.remove();
  });

  it('pushes a 20 MB file chunked, with git\'s defaults, and a fresh clone has it byte for byte', async () => {
    const first = join(temp.path, 'first');
    await git(temp.path, ['clone', '--quiet', remote, first]);
    const big = randomBytes(BIG_FILE_BYTES);
    writeFileSync(join(first, 'big.bin'), big);
    writeFileSync(join(first, 'README'), 'pushed through portico\n');
    await git(first, ['add', 'big.bin', 'README']);
    await git(first, ['commit', '--quiet', '-m', 'a file larger than http.postBuffer']);
    // The trace shows the request heads only (no data): it proves the push went chunked.
    await git(first, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], { GIT_TRACE_CURL: curlTrace, GIT_TRACE_CURL_NO_DATA: '1' });
    const trace = readFileSync(curlTrace, 'latin1');
    assert.match(trace, /POST \/git\/git\/project\.git\/git-receive-pack/);
    assert.match(trace, /Transfer-Encoding: chunked/i, 'git sent its pack chunked, as it does past http.postBuffer');
    assert.doesNotMatch(trace, /HTTP\/1\.1 411/);

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
