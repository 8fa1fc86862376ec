/**
 * The APP argument in each of its forms, readiness only once every worker
 * imported the app, and import failures: exit status 4 within seconds,
 * the traceback and a hint, no respawn loop.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE_APPS, REPO_ROOT, SYSTEM_PYTHON } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { LISTENING_LINE, runPortico, spawnPortico, startPortico, type StartOptions } from '../helpers/portico.js';
import { httpRequest } from '../helpers/http-client.js';

const PYTHONPATH = ['--pythonpath', FIXTURE_APPS];

async function bodyFrom(options: StartOptions): Promise<string> {
  const server = await startPortico(options);
  try {
    const result = await httpRequest(`${server.url}/`);
    assert.equal(result.status, 200, result.text);
    return result.text;
  } finally {
    await server.stop();
  }
}

describe('APP argument forms', { timeout: 60_000 }, () => {
  it('module:callable', async () => {
    assert.equal(await bodyFrom({ app: 'hello_app:app', args: PYTHONPATH }), 'hello from app');
  });

  it('module alone uses the callable named application', async () => {
    assert.equal(await bodyFrom({ app: 'hello_app', args: PYTHONPATH }), 'hello from application');
  });

  it("'module:factory()' calls the factory", async () => {
    assert.equal(await bodyFrom({ app: 'hello_app:create_app()', args: PYTHONPATH }), 'hello from create_app()');
  });

  it('a path to a .py file', async () => {
    assert.equal(await bodyFrom({ app: join(FIXTURE_APPS, 'hello_app.py') }), 'hello from application');
  });

  it('a path to a .wsgi file', async () => {
    assert.equal(await bodyFrom({ app: join(FIXTURE_APPS, 'hello.wsgi') }), 'hello from hello.wsgi');
  });
});

describe('readiness', { timeout: 60_000 }, () => {
  it('says it is listening only once every worker has imported the app', async () => {
    const started = Date.now();
    const server = spawnPortico({ app: 'slow_import_app', args: [...PYTHONPATH, '-w', '2'], env: { IMPORT_DELAY: '1.5' } });
    try {
      const match = await server.waitForLog(LISTENING_LINE, 20_000);
      const readyAfter = Date.now() - started;
      assert.ok(readyAfter >= 1_500, `ready after ${readyAfter} ms, before the 1.5 s import finished`);
      assert.equal(match[3], '2');
      // Both workers are ready: two overlapping requests are answered at once, by two workers.
      const url = `http://127.0.0.1:${match[2]}/`;
      const before = Date.now();
      const answers = await Promise.all([httpRequest(url), httpRequest(url)]);
      assert.ok(Date.now() - before < 1_000, 'no request waited for an import');
      for (const answer of answers) assert.equal(answer.status, 200);
    } finally {
      await server.stop();
    }
  });
});

/** `word` in `line` as a whole token: not as part of a longer option or path. */
function namesToken(line: string, word: string): boolean {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[\\s,;:'"(])${escaped}(?=$|[\\s,;:'")])`).test(line);
}

/** The import failure's one-line hint: the interpreter portico ran, and the three options that decide what it imports. */
function isHintLine(line: string): boolean {
  return [SYSTEM_PYTHON, '--python', '--chdir', '--pythonpath'].every((word) => namesToken(line, word));
}

describe('import failures', { timeout: 120_000 }, () => {
  const failures: Array<[string, string, RegExp]> = [
    ['module not found', 'no_such_module_for_portico_tests', /ModuleNotFoundError/],
    ['syntax error', 'broken_syntax', /SyntaxError/],
    ['exception at import', 'raises_on_import', /RuntimeError: raises_on_import/],
    ['missing attribute', 'hello_app:no_such_callable', /no_such_callable/],
    ['not callable', 'not_callable', /callable/],
    ['syntax error in a .py path', join(FIXTURE_APPS, 'broken_syntax.py'), /SyntaxError/],
  ];
  for (const [what, app, error] of failures) {
    it(`${what}: exits 4 within seconds with the traceback and a hint, no respawn loop`, async () => {
      const result = await runPortico(['-b', '127.0.0.1:0', '-w', '2', '--python', SYSTEM_PYTHON, ...PYTHONPATH, app], { timeoutMs: 20_000 });
      assert.equal(result.code, 4, `exit status; stderr:\n${result.stderr}`);
      assert.ok(result.elapsedMs < 15_000, `exited after ${result.elapsedMs} ms`);
      assert.match(result.stderr, /Traceback \(most recent call last\)/);
      assert.match(result.stderr, error);
      const hint = result.stderr.split('\n').find(isHintLine);
      assert.ok(hint !== undefined, `one line names the interpreter ${SYSTEM_PYTHON} and --python, --chdir and --pythonpath:\n${result.stderr}`);
      const tracebacks = (result.stderr.match(/Traceback \(most recent call last\)/g) ?? []).length;
      assert.ok(tracebacks <= 2, `at most one traceback per worker, got ${tracebacks}: respawning?`);
      assert.doesNotMatch(result.stderr, LISTENING_LINE);
    });
  }
});

describe('bytecode caching', { timeout: 60_000 }, () => {
  it("caches the runtime's own modules under PYTHONDONTWRITEBYTECODE, and leaves the application's alone", async () => {
    const temp = makeTempDir('portico-bytecode-');
    const runtimeCache = join(REPO_ROOT, 'python', 'portico', '__pycache__');
    try {
      copyFileSync(join(FIXTURE_APPS, 'hello_app.py'), join(temp.path, 'hello_app.py'));
      // Without its cached copy the worker module must be compiled, and cached, again.
      for (const name of existsSync(runtimeCache) ? readdirSync(runtimeCache) : []) {
        if (name.startsWith('worker.')) rmSync(join(runtimeCache, name), { force: true });
      }
      const body = await bodyFrom({ app: 'hello_app:app', args: ['--pythonpath', temp.path, '--python', SYSTEM_PYTHON], env: { PYTHONDONTWRITEBYTECODE: '1' } });
      assert.equal(body, 'hello from app');
      assert.ok(readdirSync(runtimeCache).some((name) => /^worker\.cpython-\d+\.pyc$/.test(name)), 'worker.py is cached');
      assert.equal(existsSync(join(temp.path, '__pycache__')), false, "the application's directory got a __pycache__");
    } finally {
      temp.remove();
    }
  });
});
