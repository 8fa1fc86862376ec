/**
 * Issue #19: the man page and the bash completion are generated from the
 * settings table (scripts/man-page.mjs, scripts/bash-completion.mjs), as
 * `--help` and the README's table are, so every option of the table must be
 * in both; man(1) must render the page without a warning, and bash must
 * complete each option's values as its parser takes them.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { COMMAND_OPTIONS } from '../../src/config/cli-args.js';
import type { CliOption, Setting } from '../../src/config/setting.js';
import { SETTINGS } from '../../src/config/settings.js';
import { LOG_LEVELS } from '../../src/config/value-parsers.js';
import { ExitStatus } from '../../src/errors.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const run = promisify(execFile);
const settings = Object.values(SETTINGS) as Setting[];
const options: CliOption[] = [...settings.flatMap((setting) => [setting, ...(setting.also ?? [])]), ...Object.values(COMMAND_OPTIONS)];
const flags = options.flatMap((option) => option.flags);

async function generate(script: string): Promise<string> {
  const { stdout } = await run(process.execPath, [join(REPO_ROOT, 'scripts', script)], { timeout: 30_000 });
  return stdout;
}

describe('portico(1), generated from the settings table', { timeout: 60_000 }, () => {
  let source = '';
  let rendered = '';
  let warnings = '';
  const hasMan = (async () => run('man', ['--version']).then(() => true, () => false))();

  before(async () => {
    source = await generate('man-page.mjs');
    const temp = makeTempDir('portico-man-');
    try {
      const page = join(temp.path, 'portico.1');
      writeFileSync(page, source);
      if (await hasMan) {
        // Wide enough that no option heading wraps; --warnings makes groff say what it cannot typeset.
        const result = await run('man', ['--warnings', '-l', page], { env: { ...process.env, MANWIDTH: '250', LC_ALL: 'C.UTF-8', MANPAGER: 'cat', PAGER: 'cat' } });
        rendered = result.stdout;
        warnings = result.stderr;
      }
    } finally {
      temp.remove();
    }
  });

  it('describes every option, with its environment variable, under its section', () => {
    for (const option of options) {
      const heading = option.flags.map((flag) => `\\fB${flag.replace(/-/g, '\\-')}\\fR`).join(', ');
      assert.ok(source.includes(option.flags.length ? heading : `\\fI${option.metavar}\\fR`), `${option.flags.join(', ') || option.metavar} in the page`);
    }
    for (const setting of settings) {
      if (setting.env) assert.ok(source.includes(`\\fB${setting.env}\\fR`), `${setting.env} in the page`);
      assert.ok(source.includes(`.SS ${setting.section}\n`), `section ${setting.section}`);
    }
  });

  it('gives every exit status', () => {
    for (const status of Object.values(ExitStatus)) assert.match(source, new RegExp(`^\\.TP\\n\\.B ${status}\\n`, 'm'));
  });

  it('renders with man -l, without a warning, every option in it', async (t) => {
    if (!(await hasMan)) return t.skip('man is not installed (Debian: man-db)');
    assert.equal(warnings, '', 'groff warns of nothing');
    assert.match(rendered, /^PORTICO\(1\)/);
    for (const flag of flags) assert.match(rendered, new RegExp(`(^|[\\s,])${flag}([\\s,]|$)`, 'm'), `${flag} rendered`);
  });
});

describe('bash completion, generated from the settings table', { timeout: 60_000 }, () => {
  let script = '';
  before(async () => {
    script = await generate('bash-completion.mjs');
  });

  /** What `_portico` offers for the words typed so far, the last one being completed. */
  async function complete(...words: string[]): Promise<string[]> {
    const program = `${script}\nCOMP_WORDS=(portico "$@"); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _portico; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const { stdout } = await run('bash', ['--norc', '--noprofile', '-c', program, 'bash', ...words], { cwd: REPO_ROOT, timeout: 10_000 });
    return stdout.split('\n').filter((line) => line !== '');
  }

  it('offers every option', async () => {
    assert.deepEqual((await complete('-')).sort(), [...flags].sort());
  });

  it('completes the values an option takes', async () => {
    assert.deepEqual(await complete('--interface', ''), ['auto', 'wsgi', 'asgi']);
    assert.deepEqual(await complete('--log-level', ''), [...LOG_LEVELS]);
    assert.deepEqual(await complete('--log-level=w'), ['warning']);
    assert.deepEqual(await complete('-k', 'uvicorn.'), ['uvicorn.workers.UvicornWorker']);
    assert.deepEqual(await complete('--workers', ''), [], 'a number: nothing to offer, and no file names');
    assert.ok((await complete('--chdir', 'pyth')).includes('python'), 'directories for --chdir');
    assert.ok((await complete('')).includes('dev'), 'dev as the first word');
    assert.ok(!(await complete('app:app', '')).includes('dev'), 'dev only as the first word');
  });
});
