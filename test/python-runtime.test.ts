// Runs the Python runtime's own unittest suite (test/python/) under every
// interpreter from 3.9 to 3.13 found here (helpers/python-interpreters.ts),
// so that `npm test` covers both halves on each supported Python.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findPythonInterpreters, missingPythonPolicy, missingPythons } from './helpers/python-interpreters.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const interpreters = findPythonInterpreters();

describe('Python runtime unit tests', () => {
  for (const minor of missingPythons(interpreters)) {
    const { skip, message } = missingPythonPolicy(minor);
    it(`finds a Python ${minor}`, { skip }, () => assert.fail(message));
  }

  for (const { path: python, version } of interpreters) {
    it(`pass under Python ${version} (${python})`, { timeout: 180_000 }, () => {
      const result = spawnSync(python, ['-m', 'unittest', 'discover', '-s', 'test/python', '-t', 'test/python'], {
        cwd: root,
        encoding: 'utf8',
      });
      const summary = result.stderr.trim().split('\n').slice(-3).join('\n');
      assert.equal(result.status, 0, `unittest under ${python} failed:\n${result.stderr.slice(-4000)}`);
      assert.match(summary, /^OK/m, summary);
      assert.match(result.stderr, /^Ran [1-9]\d* tests?/m);
    });
  }
});
