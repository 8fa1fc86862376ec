/**
 * git's smart HTTP through git-http-backend on a --cgi mount of a real
 * portico, for the push tests (integration/cgi-git-push*.test.ts): a bare
 * repository that accepts pushes, a wrapper script that names it, and a git
 * client with an environment of the test's own (a private HOME, no system
 * config, no proxy variables), so that the machine's git configuration
 * cannot change what is tested.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Portico } from './portico.js';
import { makeTempDir } from './temp-dir.js';

const run = promisify(execFile);
/** More than http.postBuffer (1 MiB by default): git sends such a pack with no declared length. */
const BIG_FILE_BYTES = 20 * 1024 * 1024;

export interface GitSite {
  readonly server: Portico;
  /** The repository's URL. */
  readonly remote: string;
  /** Runs git in `cwd` with the site's client configuration. */
  git(cwd: string, args: string[], env?: Record<string, string>): Promise<string>;
  /** Stops the server and removes every file the site made. */
  remove(): Promise<void>;
}

export interface GitSiteOptions {
  /** The temporary directory's name prefix. */
  name: string;
  /** `-c name=value` settings for the client beyond the defaults (HTTP/2, a CA). */
  clientConfig?: string[];
  /** Starts portico with `--cgi /git/=<cgiBin>` among its arguments, TMPDIR=<serverTmp>; resolves with it and the repository's URL. */
  start(cgiBin: string, serverTmp: string): Promise<{ server: Portico; remote: string }>;
}

export async function startGitSite(options: GitSiteOptions): Promise<GitSite & { readonly temp: string; readonly serverTmp: string }> {
  const temp = makeTempDir(options.name);
  const [home, repos, cgiBin, serverTmp] = ['home', 'repos', 'cgi-bin', 'server-tmp'].map((dir) => join(temp.path, dir)) as [string, string, string, string];
  let server: Portico | undefined;
  const gitEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
  const config = ['user.name=Portico Test', 'user.email=test@portico.invalid', 'init.defaultBranch=main', 'protocol.version=2', ...(options.clientConfig ?? [])];
  const git = async (cwd: string, args: string[], env: Record<string, string> = {}): Promise<string> => {
    try {
      const { stdout } = await run('git', [...config.flatMap((setting) => ['-c', setting]), ...args], { cwd, env: { ...gitEnv, ...env }, maxBuffer: 16 * 1024 * 1024 });
      return stdout;
    } catch (error) {
      const { stderr, message } = error as { stderr?: string; message: string };
      throw new Error(`git ${args.join(' ')}: ${message}\n${stderr ?? ''}\nportico:\n${server?.logs() ?? ''}`);
    }
  };
  const remove = async (): Promise<void> => {
    await server?.stop();
    temp.remove();
  };
  try {
    const execPath = (await run('git', ['--exec-path']).catch(() => ({ stdout: '' }))).stdout.trim();
    const backend = join(execPath, 'git-http-backend');
    if (execPath === '' || !existsSync(backend)) throw new Error("git-http-backend is missing: install Debian's git (scripts/install-system-deps.sh does)");
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
    const started = await options.start(cgiBin, serverTmp);
    server = started.server;
    return { server, remote: started.remote, git, remove, temp: temp.path, serverTmp };
  } catch (error) {
    await remove();
    throw error;
  }
}

/**
 * Pushes a 20 MB file from a clone, then clones again and checks that the
 * file came back byte for byte, that nothing was refused on the way, and
 * that the body spool left no file behind. Resolves with git's curl trace
 * of the push (request heads only), for the caller to read how it went.
 */
export async function pushBigFileAndCloneBack(site: GitSite & { readonly temp: string; readonly serverTmp: string }): Promise<string> {
  const first = join(site.temp, 'first');
  const curlTrace = join(site.temp, 'curl-trace.log');
  await site.git(site.temp, ['clone', '--quiet', site.remote, first]);
  const big = randomBytes(BIG_FILE_BYTES);
  writeFileSync(join(first, 'big.bin'), big);
  writeFileSync(join(first, 'README'), 'pushed through portico\n');
  await site.git(first, ['add', 'big.bin', 'README']);
  await site.git(first, ['commit', '--quiet', '-m', 'a file larger than http.postBuffer']);
  await site.git(first, ['push', '--quiet', 'origin', 'HEAD:refs/heads/main'], { GIT_TRACE_CURL: curlTrace, GIT_TRACE_CURL_NO_DATA: '1' });

  const second = join(site.temp, 'second');
  await site.git(site.temp, ['clone', '--quiet', site.remote, second]);
  const cloned = readFileSync(join(second, 'big.bin'));
  assert.equal(cloned.length, big.length);
  assert.ok(cloned.equals(big), 'the cloned file is the pushed one, byte for byte');
  assert.equal(readFileSync(join(second, 'README'), 'utf8'), 'pushed through portico\n');
  assert.doesNotMatch(site.server.logs(), /PORTICO_ERR_/);
  assert.deepEqual(readdirSync(site.serverTmp).filter((name) => name.startsWith('portico-cgi-body-')), []);
  return readFileSync(curlTrace, 'latin1');
}
