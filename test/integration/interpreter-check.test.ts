/**
 * Issue #20: a --python that cannot run portico is one error line naming it,
 * and exit status 2 (a bad setting), before any worker starts: no copy of
 * the worker's source in the log (`--python /bin/cat`), no SyntaxError
 * traceback from an old Python, no "worker exited". The minimum is
 * python/portico_worker.py's MINIMUM_PYTHON, checked in syntax every Python
 * parses; the README and the tested versions say the same.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ERROR_LOG_LINE, fixtureApp, runPortico, type RunResult } from '../helpers/portico.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { SUPPORTED_PYTHONS, findPythonInterpreters } from '../helpers/python-interpreters.js';

const MINIMUM = /^MINIMUM_PYTHON = \((\d+), (\d+)\)$/m.exec(readFileSync(join(REPO_ROOT, 'python', 'portico_worker.py'), 'utf8'));
const minimum = MINIMUM === null ? '?' : `${MINIMUM[1]}.${MINIMUM[2]}`;

/** Runs hello world with `--python python`; it must fail at once. */
function runWith(python: string): Promise<RunResult> {
  const { app, args } = fixtureApp('hello_app');
  return runPortico(['-b', '127.0.0.1:0', ...args, '--python', python, app], { timeoutMs: 20_000 });
}

/** The one line the run may log, and that it is an error naming `python`. */
function assertOneErrorLine(result: RunResult, python: string): string {
  const output = result.stdout + result.stderr;
  const lines = output.split('\n').filter((line) => line !== '');
  assert.equal(lines.length, 1, `one line, not ${lines.length}:\n${output}`);
  const match = ERROR_LOG_LINE.exec(lines[0] as string);
  assert.ok(match !== null, `a log line: ${lines[0]}`);
  assert.equal(match[3], 'ERROR');
  assert.ok((match[4] as string).includes(`--python '${python}'`), `it names the interpreter: ${lines[0]}`);
  assert.equal(result.code, 2, `exit status 2, as for any bad setting:\n${output}`);
  return match[4] as string;
}

/** Interpreters older than the minimum that pyenv has here (none where there is no pyenv). */
function oldPythons(): Array<{ path: string; version: string }> {
  const asked = spawnSync('pyenv', ['root'], { encoding: 'utf8', timeout: 10_000 });
  const root = asked.status === 0 && asked.stdout.trim() !== '' ? asked.stdout.trim() : (process.env.PYENV_ROOT ?? join(homedir(), '.pyenv'));
  let names: string[];
  try {
    names = readdirSync(join(root, 'versions'));
  } catch {
    return [];
  }
  const found: Array<{ path: string; version: string }> = [];
  for (const name of names) {
    const match = /^(\d+)\.(\d+)\.\d+$/.exec(name);
    if (match === null || Number(match[1]) * 100 + Number(match[2]) >= Number(MINIMUM?.[1]) * 100 + Number(MINIMUM?.[2])) continue;
    const path = join(root, 'versions', name, 'bin', 'python');
    try {
      accessSync(path, constants.X_OK);
      found.push({ path, version: name });
    } catch {
      // Not an interpreter.
    }
  }
  return found;
}

describe('--python that cannot run portico', { timeout: 120_000 }, () => {
  it('a program that is no Python (/bin/cat): one line naming it, not the worker source', async () => {
    const result = await runWith('/bin/cat');
    const message = assertOneErrorLine(result, '/bin/cat');
    assert.match(message, /is not a Python interpreter/);
    assert.doesNotMatch(result.stderr + result.stdout, /portico_worker|import sys/);
  });

  it('a path that does not exist', async () => {
    const result = await runWith('/nonexistent/bin/python3');
    assert.match(assertOneErrorLine(result, '/nonexistent/bin/python3'), /does not exist/);
  });

  it('a bare name that is not on PATH', async () => {
    const result = await runWith('portico-no-such-python');
    assert.match(assertOneErrorLine(result, 'portico-no-such-python'), /is not on PATH/);
  });

  const old = oldPythons();
  it('finds a Python older than the minimum to try', { skip: old.length === 0 ? 'no older Python under pyenv here' : false }, () => {
    assert.ok(old.length > 0);
  });
  for (const python of old) {
    it(`Python ${python.version}: one line naming the version found and the one needed`, async () => {
      const result = await runWith(python.path);
      const message = assertOneErrorLine(result, python.path);
      assert.ok(message.endsWith(`is Python ${python.version}; portico needs Python ${minimum} or newer`), message);
      assert.doesNotMatch(result.stderr, /Traceback|SyntaxError|worker exited/);
    });
  }
});

describe('the minimum Python, stated once', () => {
  const lowest = findPythonInterpreters().find((python) => python.minor === minimum);
  it(`parses every module of the runtime under Python ${minimum}`, { skip: lowest === undefined ? `no Python ${minimum} here` : false }, () => {
    // python-versions.test.ts serves requests under it; this also covers the modules those requests never import.
    const check = [
      'import os, sys',
      'bad = []',
      'for root, _, files in os.walk(sys.argv[1]):',
      '    for name in files:',
      "        if name.endswith('.py'):",
      '            path = os.path.join(root, name)',
      '            try:',
      "                compile(open(path, encoding='utf-8').read(), path, 'exec')",
      '            except SyntaxError as error:',
      "                bad.append('%s:%s: %s' % (path, error.lineno, error.msg))",
      "print('\\n'.join(bad))",
    ].join('\n');
    const result = spawnSync((lowest as { path: string }).path, ['-c', check, join(REPO_ROOT, 'python')], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), '', `syntax newer than Python ${minimum}`);
  });


  it('is what the tested versions start from and what the README says', () => {
    assert.notEqual(MINIMUM, null, 'python/portico_worker.py declares MINIMUM_PYTHON');
    assert.equal(SUPPORTED_PYTHONS[0], minimum, 'python-versions.test.ts runs a real server under the minimum');
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    assert.match(readme, new RegExp(`Python ${minimum.replace('.', '\\.')}\\+`), 'the README states it');
    assert.doesNotMatch(readme, new RegExp(`Python (?!${minimum.replace('.', '\\.')}\\+)3\\.\\d+\\+`), 'and no other minimum');
  });
});
