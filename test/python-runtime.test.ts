// Runs the Python runtime's own unittest suite (test/python/) under the
// interpreters portico supports here, so that `npm test` covers both halves.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const interpreters = ['python3', '/usr/bin/python3'].filter((python) => python === 'python3' || existsSync(python));

describe('Python runtime unit tests', () => {
  for (const python of interpreters) {
    it(`pass under ${python}`, { timeout: 180_000 }, () => {
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
