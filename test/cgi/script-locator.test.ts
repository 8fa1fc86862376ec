import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { chmodSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgiError } from '../../src/cgi/cgi-errors.js';
import { ScriptLocator } from '../../src/cgi/script-locator.js';
import { prepareCgiRoot, type CgiRoot } from './cgi-test-server.js';

let cgi: CgiRoot;
let locator: ScriptLocator;
before(() => {
  cgi = prepareCgiRoot();
  locator = new ScriptLocator(cgi.root);
});
after(() => cgi.remove());

async function refusal(pathInfo: string): Promise<{ status: number; code: string }> {
  try {
    await locator.locate(pathInfo);
  } catch (error) {
    assert.ok(error instanceof CgiError, String(error));
    return { status: error.status, code: error.code };
  }
  assert.fail(`'${pathInfo}' was located`);
}

describe('ScriptLocator', () => {
  it('takes the first regular file as the script and the rest as PATH_INFO', async () => {
    const found = await locator.locate('/sub/echo-env.pl/extra/path/');
    assert.deepEqual(found, {
      scriptPath: '/sub/echo-env.pl',
      pathInfo: '/extra/path/',
      filename: join(cgi.root, 'sub', 'echo-env.pl'),
      directory: join(cgi.root, 'sub'),
      nonParsedHeaders: false,
    });
    assert.equal((await locator.locate('/hello.sh')).pathInfo, '');
    assert.equal((await locator.locate('/nph-raw.sh')).nonParsedHeaders, true);
  });

  it('runs what a symlink inside the root points to', async () => {
    assert.equal((await locator.locate('/link-hello.sh')).filename, join(cgi.root, 'hello.sh'));
  });

  it('answers 404 for nothing there, 403 for what may not run', async () => {
    assert.deepEqual(await refusal('/missing.sh'), { status: 404, code: 'PORTICO_ERR_CGI_NOT_FOUND' });
    assert.deepEqual(await refusal('/hello.sh.missing/x'), { status: 404, code: 'PORTICO_ERR_CGI_NOT_FOUND' });
    assert.deepEqual(await refusal('/not-executable.sh'), { status: 403, code: 'PORTICO_ERR_CGI_FORBIDDEN' });
    assert.deepEqual(await refusal(''), { status: 403, code: 'PORTICO_ERR_CGI_FORBIDDEN' });
    assert.deepEqual(await refusal('/sub'), { status: 403, code: 'PORTICO_ERR_CGI_FORBIDDEN' });
    assert.deepEqual(await refusal('/sub//echo-env.pl'), { status: 403, code: 'PORTICO_ERR_CGI_FORBIDDEN' });
    assert.deepEqual(await refusal('/.hidden.sh'), { status: 403, code: 'PORTICO_ERR_CGI_FORBIDDEN' });
    assert.deepEqual(await refusal('/no-shebang'), { status: 500, code: 'PORTICO_ERR_CGI_SPAWN' });
  });

  it('refuses symlinks that lead out of the root', async () => {
    assert.deepEqual(await refusal('/escape.sh'), { status: 403, code: 'PORTICO_ERR_CGI_FORBIDDEN' });
    assert.deepEqual(await refusal('/outdir/outside.sh'), { status: 403, code: 'PORTICO_ERR_CGI_FORBIDDEN' });
  });

  it('refuses traversal however it is spelled, given to it directly (defence in depth)', async () => {
    for (const pathInfo of [
      '/../outside.sh',
      '/sub/../../outside.sh',
      '/./hello.sh',
      '/hello.sh/../../outside.sh',
      '/%2e%2e/outside.sh',
      '/%2E%2E/outside.sh',
      '/..%2foutside.sh',
      '/sub%2f..%2f..%2foutside.sh',
      '/..\\outside.sh',
      '/hello.sh\\..\\..\\outside.sh',
      '/hello.sh\0/../outside.sh',
      '/hello.sh%00',
      '/%5c..%5coutside.sh',
      'relative/hello.sh',
    ]) {
      const { status, code } = await refusal(pathInfo);
      assert.equal(status, 400, pathInfo);
      assert.equal(code, 'PORTICO_ERR_CGI_BAD_PATH', pathInfo);
    }
  });

  it('checks a script again once it changes after being approved: mode, content, or where a symlink leads', async () => {
    writeFileSync(join(cgi.root, 'changing.sh'), '#!/bin/sh\n', { mode: 0o755 });
    await locator.locate('/changing.sh');
    chmodSync(join(cgi.root, 'changing.sh'), 0o644);
    assert.deepEqual(await refusal('/changing.sh'), { status: 403, code: 'PORTICO_ERR_CGI_FORBIDDEN' });
    chmodSync(join(cgi.root, 'changing.sh'), 0o755);
    writeFileSync(join(cgi.root, 'changing.sh'), 'echo no interpreter line\n');
    assert.equal((await refusal('/changing.sh')).status, 500);

    symlinkSync('hello.sh', join(cgi.root, 'moving-link.sh'));
    assert.equal((await locator.locate('/moving-link.sh')).filename, join(cgi.root, 'hello.sh'));
    symlinkSync('../outside.sh', join(cgi.root, 'moving-link.tmp'));
    renameSync(join(cgi.root, 'moving-link.tmp'), join(cgi.root, 'moving-link.sh'));
    assert.deepEqual(await refusal('/moving-link.sh'), { status: 403, code: 'PORTICO_ERR_CGI_FORBIDDEN' });
  });

  it('refuses a root that is not a directory', async () => {
    await assert.rejects(new ScriptLocator(join(cgi.root, 'hello.sh')).realRoot());
    await assert.rejects(new ScriptLocator(join(cgi.root, 'nowhere')).realRoot());
  });
});
