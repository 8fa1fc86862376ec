/**
 * The most used CGI program today, driven by its own client: git's smart
 * HTTP through git-http-backend on a --cgi mount (helpers/git-http-site.ts).
 * A push of more than http.postBuffer (1 MiB by default) goes out chunked,
 * which portico once refused with 411 (#16); now the body is spooled and the
 * script gets CONTENT_LENGTH. A 20 MB file is pushed with git's defaults,
 * then a fresh clone must give it back byte for byte. The same push over
 * HTTP/2, where a body has no declared length either, is
 * cgi-git-push-h2.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pushBigFileAndCloneBack, startGitSite } from '../helpers/git-http-site.js';
import { startPortico } from '../helpers/portico.js';

describe('git push and clone through git-http-backend on a CGI mount', { timeout: 180_000 }, () => {
  let site: Awaited<ReturnType<typeof startGitSite>>;

  before(async () => {
    site = await startGitSite({
      name: 'portico-git-push-',
      start: async (cgiBin, serverTmp) => {
        const server = await startPortico({ app: null, args: ['--cgi', `/git/=${cgiBin}`], ready: /listening on http:\/\/([^\s:/]+):(\d+)/, env: { TMPDIR: serverTmp } });
        return { server, remote: `${server.url}/git/git/project.git` };
      },
    });
  });

  after(async () => site?.remove());

  it("pushes a 20 MB file chunked, with git's defaults, and a fresh clone has it byte for byte", async () => {
    const trace = await pushBigFileAndCloneBack(site);
    // The trace shows the request heads only (no data): it proves the push went chunked.
    assert.match(trace, /POST \/git\/git\/project\.git\/git-receive-pack/);
    assert.match(trace, /Transfer-Encoding: chunked/i, 'git sent its pack chunked, as it does past http.postBuffer');
    assert.doesNotMatch(trace, /HTTP\/1\.1 411/);
  });
});
