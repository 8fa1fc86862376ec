/**
 * The same requests under every Python from 3.8 to 3.13 found on this
 * machine (test/helpers/python-interpreters.ts): hello world, a POST body
 * larger than the request window echoed back, and an app exception that
 * gives a 500 and leaves the worker up. Each answer says which interpreter
 * served it, so a --python that was not obeyed cannot pass.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fixtureApp, startPortico, type Portico } from '../helpers/portico.js';
import { eventually, getJson, httpRequest } from '../helpers/http-client.js';
import { findPythonInterpreters, missingPythonPolicy, missingPythons } from '../helpers/python-interpreters.js';

interface Hello {
  hello: string;
  executable: string;
  version: string;
  pid: number;
}

const interpreters = findPythonInterpreters();

describe('Python versions: a real server under each interpreter', { timeout: 180_000 }, () => {
  for (const minor of missingPythons(interpreters)) {
    const { skip, message } = missingPythonPolicy(minor);
    it(`finds a Python ${minor}`, { skip }, () => assert.fail(message));
  }

  for (const python of interpreters) {
    describe(`Python ${python.version} (${python.path})`, () => {
      let server: Portico;
      before(async () => {
        const { app, args } = fixtureApp('interpreter_app');
        server = await startPortico({ app, args: [...args, '--python', python.path] });
      });
      after(async () => {
        await server?.stop();
      });

      it('answers hello world from that interpreter', async () => {
        const hello = await getJson<Hello>(`${server.url}/`);
        assert.equal(hello.hello, 'world');
        assert.equal(hello.version, python.version);
        assert.equal(hello.executable, python.path);
      });

      it('echoes a POST body of 3 MiB, more than one request window', async () => {
        const body = randomBytes(3 * 1024 * 1024);
        const result = await httpRequest(`${server.url}/echo`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length) },
          body,
          timeoutMs: 30_000,
        });
        assert.equal(result.status, 200, result.text.slice(0, 500));
        assert.ok(result.body.equals(body), `echoed ${result.body.length} bytes, not the ${body.length} sent`);
      });

      it('turns an app exception into a 500 with the traceback logged, and the worker stays up', async () => {
        const before = await getJson<Hello>(`${server.url}/`);
        const result = await httpRequest(`${server.url}/raise`);
        assert.equal(result.status, 500);
        assert.doesNotMatch(result.text, /Traceback|RuntimeError/, 'the client gets a short body, not the traceback');
        const minorText = python.minor.replace('.', '\\.');
        await eventually('the traceback in the log', () =>
          new RegExp(`Traceback[\\s\\S]*RuntimeError: interpreter_app raised under Python ${minorText}`).test(server.stderr()) ? true : undefined, 5_000);
        const after = await getJson<Hello>(`${server.url}/`);
        assert.equal(after.pid, before.pid, 'the same worker answers after the exception');
      });
    });
  }
});
