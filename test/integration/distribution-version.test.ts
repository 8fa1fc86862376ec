/**
 * Issue #19: `portico --version` names the Python interpreter a serve with
 * the same arguments would run, with its version, so that a bug report
 * carries both; and Node's.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PORTICO_BIN, REPO_ROOT, SYSTEM_PYTHON } from '../helpers/paths.js';
import { baseEnv } from '../helpers/portico.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);
const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

async function portico(args: string[], options: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<string> {
  const { stdout } = await run(process.execPath, [PORTICO_BIN, ...args], { cwd: options.cwd ?? REPO_ROOT, env: baseEnv(options.env), timeout: 30_000 });
  return stdout;
}

async function pythonVersion(python: string): Promise<string> {
  const { stdout } = await run(python, ['-c', 'import platform; print(platform.python_version())']);
  return stdout.trim();
}

describe('portico --version', { timeout: 60_000 }, () => {
  it('prints portico\'s version, Node\'s, and the interpreter with its version', async () => {
    const output = await portico(['--version', '--python', SYSTEM_PYTHON]);
    assert.equal(output, `portico ${version}\nNode.js ${process.version} (${process.execPath})\nPython ${await pythonVersion(SYSTEM_PYTHON)} (${SYSTEM_PYTHON})\n`);
  });

  it('finds the interpreter as a serve would: PORTICO_PYTHON, VIRTUAL_ENV, then python3 on PATH, resolved to its path', async () => {
    assert.match(await portico(['--version'], { env: { PORTICO_PYTHON: SYSTEM_PYTHON } }), new RegExp(`^Python [\\d.]+\\S* \\(${SYSTEM_PYTHON}\\)$`, 'm'));
    const venv = await portico(['--version'], { env: { VIRTUAL_ENV: '/nowhere/venv' } });
    assert.match(venv, /^Python: none \(\/nowhere\/venv\/bin\/python is not found; set --python\)$/m);
    const onPath = await portico(['--version'], { env: { PATH: `/usr/bin:/bin` } });
    assert.match(onPath, new RegExp(`^Python ${(await pythonVersion(SYSTEM_PYTHON)).replace(/\./g, '\\.')} \\(python3 is /usr/bin/python3[.\\d]*\\)$`, 'm'));
  });

  it('reads the config file for the interpreter, and names a [[mount]]\'s own; a broken file does not stop it', async () => {
    const temp = makeTempDir('portico-version-');
    try {
      writeFileSync(join(temp.path, 'portico.toml'), `app = "x:y"\npython = "${SYSTEM_PYTHON}"\n[[mount]]\npath = "/tools"\napp = "tools:app"\npython = "/bin/echo"\n`);
      const output = await portico(['--version'], { cwd: temp.path });
      assert.match(output, new RegExp(`^Python [\\d.]+\\S* \\(${SYSTEM_PYTHON}\\)$`, 'm'));
      assert.match(output, /^Python: none \(\/bin\/echo does not answer as a Python; set --python\), for the mount \/tools$/m);
      writeFileSync(join(temp.path, 'portico.toml'), 'workers = [not toml\n');
      assert.match(await portico(['--version', '--python', SYSTEM_PYTHON], { cwd: temp.path }), /^Python [\d.]+/m);
    } finally {
      temp.remove();
    }
  });
});
