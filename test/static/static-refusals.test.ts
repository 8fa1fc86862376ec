/**
 * Nothing outside the root is ever served, and nothing hidden inside it:
 * every trick is tried through the real router, and then again straight
 * into the handler as PATH_INFO (defence in depth: the handler must hold
 * even if the router let something through).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StaticHandler } from '../../src/static/static-handler.js';
import { directTarget, makeSite, memoryLog, SECRET, startStaticHarness, type MountHarness, type Reply, type Site } from './static-test-server.js';

/** Secrets a traversal could reach: ours, and the system's. */
function assertNothingLeaked(reply: Reply, what: string): void {
  assert.ok(reply.status >= 400 && reply.status < 500, `${what}: refused with a 4xx, got ${reply.status}`);
  assert.ok(!reply.text.includes(SECRET), `${what}: the file outside the root leaked`);
  assert.ok(!reply.text.includes('root:'), `${what}: /etc/passwd leaked`);
  assert.ok(!reply.text.includes('SECRET_KEY'), `${what}: a dotfile leaked`);
  assert.ok(!reply.text.includes('www'), `${what}: the body names no path`);
}

for (const cached of [true, false]) {
  describe(`static refusals (open-file cache ${cached ? 'on' : 'off'})`, { timeout: 30_000 }, () => {
    let site: Site;
    let server: MountHarness;
    let logText: () => string;
    before(async () => {
      site = makeSite();
      const memory = memoryLog();
      logText = memory.text;
      server = await startStaticHarness(new StaticHandler({ root: site.root, log: memory.log, openFileCache: cached ? {} : false }));
    });
    after(async () => {
      await server?.close();
      site?.remove();
    });

    it('hides dotfiles and dot-directories with 404, however the dot is spelled', async () => {
      for (const target of ['/static/.env', '/static/%2eenv', '/static/.hidden/secret.txt', '/static/.hidden/', '/static/.git/config', '/static/docs/../.env']) {
        const reply = await server.inject(target);
        assert.equal(reply.status, 404, target);
        assertNothingLeaked(reply, target);
      }
    });

    it('never climbs out of the root through the router, encoded or not', async () => {
      const targets = [
        '/static/../outside/secret.txt',
        '/static/../../../../etc/passwd',
        '/static/%2e%2e/outside/secret.txt',
        '/static/%2E%2E/%2E%2E/etc/passwd',
        '/static/..%2foutside%2fsecret.txt',
        '/static/..%2f..%2f..%2f..%2fetc%2fpasswd',
        '/static/docs/..%2f..%2foutside/secret.txt',
        '/static/%2e%2e%2f%2e%2e%2foutside%2fsecret.txt',
        '/static/..%5coutside%5csecret.txt',
        '/static/..\\..\\outside\\secret.txt',
        '/static/docs%5c..%5c..%5coutside%5csecret.txt',
        '/static/%252e%252e/outside/secret.txt',
        '/static/%252e%252e%252foutside%252fsecret.txt',
        '/static/%c0%ae%c0%ae/outside/secret.txt',
        '/static//../outside/secret.txt',
        '/static/%00/../outside/secret.txt',
      ];
      for (const target of targets) assertNothingLeaked(await server.inject(target), target);
    });

    it('decodes once only: %252e%252e names a file called %2e%2e', async () => {
      const reply = await server.inject('/static/%252e%252e');
      assert.equal(reply.status, 200);
      assert.equal(reply.text, 'a file literally named %2e%2e\n');
    });

    it('answers a NUL byte with 400', async () => {
      for (const target of ['/static/hello.txt%00', '/static/hello.txt%00.png', '/static/%00/secret.txt']) {
        const reply = await server.inject(target);
        assertNothingLeaked(reply, target);
        assert.equal(reply.status, 400, target);
      }
    });

    it('refuses symlinks that lead out of the root, and logs them as a warning', async () => {
      for (const target of ['/static/link-out.txt', '/static/dir-out/secret.txt', '/static/dir-out/', '/static/dir-out/dir/', '/static/index-out/', '/static/trap/']) {
        const reply = await server.inject(target);
        assert.equal(reply.status, 404, target);
        assertNothingLeaked(reply, target);
      }
      assert.match(logText(), /\[WARNING\] static: refused "\/link-out\.txt": resolves outside the root/);
    });

    it('serves no FIFO (it would block), only regular files', async () => {
      assert.equal((await server.inject('/static/fifo')).status, 404);
    });

    it('holds without the router: dot segments, backslashes, NUL and odd shapes as PATH_INFO', async () => {
      const refusals: Array<[string, number]> = [
        ['/../outside/secret.txt', 404],
        ['/../../../../etc/passwd', 404],
        ['/docs/../../outside/secret.txt', 404],
        ['/..', 404],
        ['/../', 404],
        ['/./hello.txt', 404],
        ['/.', 404],
        ['/..\\outside\\secret.txt', 404],
        ['\\..\\outside\\secret.txt', 404],
        ['/docs\\..\\..\\outside\\secret.txt', 404],
        ['hello.txt', 404],
        ['../outside/secret.txt', 404],
        ['/hello.txt\0', 400],
        ['/\0/../outside/secret.txt', 400],
        ['/.env', 404],
        ['/docs/.hidden', 404],
        ['/%2e%2e/outside/secret.txt', 404],
        ['/link-out.txt', 404],
        ['/dir-out/secret.txt', 404],
        ['/\xc0\xae\xc0\xae/outside/secret.txt', 404],
        ['//etc/passwd', 404],
        ['/' + site.outside + '/secret.txt', 404],
      ];
      for (const [pathInfo, status] of refusals) {
        const reply = await server.inject(directTarget(pathInfo));
        assert.equal(reply.status, status, JSON.stringify(pathInfo));
        assertNothingLeaked(reply, JSON.stringify(pathInfo));
      }
      // The same door serves what is legitimately there.
      assert.equal((await server.inject(directTarget('/hello.txt'))).status, 200);
      assert.equal((await server.inject(directTarget('/docs//page.txt'))).status, 200);
      assert.equal((await server.inject(directTarget('/caf\xc3\xa9.txt'))).text, 'utf-8 name\n');
    });
  });
}
