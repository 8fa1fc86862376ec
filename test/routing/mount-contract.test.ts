/**
 * The mount contract (src/routing/mount-handler.ts), one suite for every
 * implementation: WSGI (a real worker pool), CGI and static. Each case is
 * what any mount must do, whatever it serves.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CgiHandler } from '../../src/cgi/cgi-handler.js';
import { ErrorLog } from '../../src/observability/error-log.js';
import type { MountHandler } from '../../src/routing/mount-handler.js';
import { StaticHandler } from '../../src/static/static-handler.js';
import { AppMount } from '../../src/app/app-mount.js';
import { startMountHarness, type MountHarness } from '../helpers/mount-harness.js';
import { SYSTEM_PYTHON } from '../helpers/paths.js';

const BODY = 'the same body from every kind of mount\n';

/** A directory holding what each kind serves at '/thing': a file, a script, an application. */
function makeSite(): string {
  const root = mkdtempSync(join(tmpdir(), 'portico-contract-'));
  writeFileSync(join(root, 'thing'), BODY);
  writeFileSync(join(root, 'script.sh'), `#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\nexec cat "$(dirname "$0")/thing"\n`);
  chmodSync(join(root, 'script.sh'), 0o755);
  writeFileSync(
    join(root, 'contract_app.py'),
    [
      "BODY = open('thing', 'rb').read()  # the static mount's file, so all three serve the same bytes",
      'def application(environ, start_response):',
      "    if environ['PATH_INFO'] != '/thing':",
      "        start_response('404 Not Found', [('Content-Type', 'text/plain')])",
      "        return [b'not here\\n']",
      "    start_response('200 OK', [('Content-Type', 'text/plain')])",
      '    return [BODY]',
      '',
    ].join('\n'),
  );
  return root;
}

interface Case {
  kind: string;
  /** The path that names the resource in this kind's mount. */
  thing: string;
  make(root: string, log: ErrorLog): MountHandler;
}

const CASES: Case[] = [
  { kind: 'static', thing: '/thing', make: (root, log) => new StaticHandler({ root, log }) },
  { kind: 'cgi', thing: '/script.sh', make: (root, log) => new CgiHandler({ root, log, timeoutSeconds: 10, debug: false, python: SYSTEM_PYTHON }) },
  {
    kind: 'app',
    thing: '/thing',
    make: (root, log) =>
      new AppMount(
        {
          app: 'contract_app:application',
          python: 'python3',
          chdir: root,
          pythonpath: [],
          env: {},
          threads: 1,
          debug: false,
          interface: 'wsgi',
          asgiLifespan: 'auto',
          preload: false,
          workers: 1,
          // Room for every request the contract sends at once: past --backlog a pool answers 503 by design.
          backlog: 64,
          maxRequests: 0,
          maxRequestsJitter: 0,
          timeout: 10,
          limitRequestBody: 0,
          rootPath: '',
          workerConnections: 1000,
          websocket: { maxSize: 1 << 20, perMessageDeflate: false, maxQueue: 32, pingIntervalMs: 0, pingTimeoutMs: 0, gracefulTimeoutMs: 1000 },
        },
        log,
        { directories: [root], files: [] },
      ),
  },
];

for (const testCase of CASES) {
  describe(`mount contract: ${testCase.kind}`, () => {
    let root: string;
    let harness: MountHarness;
    const log = new ErrorLog(new PassThrough().resume(), 'critical');

    before(async () => {
      root = makeSite();
      harness = await startMountHarness({ mounts: [{ prefix: '/mount', handler: testCase.make(root, log) }], log });
    });

    after(async () => {
      await harness.close(1000);
      rmSync(root, { recursive: true, force: true });
    });

    it('serves the resource with 200 and counts its body bytes', async () => {
      const before = harness.finished.length;
      const response = await harness.inject('/mount' + testCase.thing);
      assert.equal(response.status, 200);
      assert.equal(response.text, BODY);
      const record = await harness.finishedRecord(before);
      assert.equal(record.kind, testCase.kind);
      assert.equal(record.bodyBytes, Buffer.byteLength(BODY));
    });

    it('answers HEAD with no body', async () => {
      const response = await harness.inject('/mount' + testCase.thing, { method: 'HEAD' });
      assert.equal(response.status, 200);
      assert.equal(response.text, '');
    });

    it('answers 404 for what it does not have, and keeps serving', async () => {
      const missing = await harness.inject('/mount/no-such-thing');
      assert.equal(missing.status, 404);
      const again = await harness.inject('/mount' + testCase.thing);
      assert.equal(again.status, 200);
    });

    it('ends every response it is given, for many requests at once', async () => {
      const responses = await Promise.all(Array.from({ length: 20 }, () => harness.inject('/mount' + testCase.thing).then((r) => r.text)));
      assert.deepEqual(new Set(responses), new Set([BODY]));
    });
  });
}
