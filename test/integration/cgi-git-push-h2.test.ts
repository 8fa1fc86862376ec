/**
 * cgi-git-push.test.ts's push over HTTP/2 (#16): git's curl speaks h2 over
 * TLS (http.version=HTTP/2) to git-http-backend on a --cgi mount. A request
 * body there has no declared length (DATA frames without content-length),
 * so it takes the spool a chunked one does (src/cgi/request-body-spool.ts)
 * and the script gets CONTENT_LENGTH. A 20 MB file is pushed, then a fresh
 * clone, over HTTP/2 too, must give it back byte for byte.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pushBigFileAndCloneBack, startGitSite } from '../helpers/git-http-site.js';
import { startHttps } from '../helpers/https-client.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';

describe('git push and clone over HTTP/2 through git-http-backend on a CGI mount', { timeout: 180_000 }, () => {
  let pki: TestPki;
  let site: Awaited<ReturnType<typeof startGitSite>>;

  before(async () => {
    pki = makeTestPki();
    site = await startGitSite({
      name: 'portico-git-push-h2-',
      clientConfig: ['http.version=HTTP/2', `http.sslCAInfo=${pki.ca.cert}`],
      start: async (cgiBin, serverTmp) => {
        const server = await startHttps({
          app: null,
          args: ['--cgi', `/git/=${cgiBin}`, '--certfile', pki.server.chain, '--keyfile', pki.server.key],
          ready: /listening on https:\/\/([^\s:/]+):(\d+)/,
          env: { TMPDIR: serverTmp },
        });
        // The certificate is for localhost.
        return { server, remote: `https://localhost:${server.port}/git/git/project.git` };
      },
    });
  });

  after(async () => {
    await site?.remove();
    pki?.remove();
  });

  it('pushes a 20 MB file over HTTP/2, with no declared length, and a fresh clone has it byte for byte', async () => {
    const trace = await pushBigFileAndCloneBack(site);
    assert.match(trace, /ALPN: server accepted h2|ALPN, server accepted to use h2/);
    // Each request's fields as curl lists them (h2h3 [...] lines) up to its 'Send header' line: git probes with a
    // 4-byte POST first, then sends the pack with no content-length.
    const posts = trace.split(/h2h3 \[:method: /).filter((request) => request.startsWith('POST]') && request.includes('git-receive-pack]'));
    const heads = posts.map((request) => request.slice(0, request.indexOf('=> Send header')));
    assert.ok(heads.some((head) => !/content-length/i.test(head)), `the pack went without a declared length:\n${heads.join('\n---\n')}`);
    assert.match(trace, /HTTP\/2 200/);
    assert.doesNotMatch(trace, /HTTP\/2 411/);
  });
});
