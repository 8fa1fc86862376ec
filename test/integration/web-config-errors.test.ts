/**
 * A bad config stops start-up: exit 2, before any worker starts, with one
 * line naming the file, the key and its line. It never falls back to
 * defaults. The same for mounts given on the command line, which name the
 * option instead.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FIXTURE_APPS, REPO_ROOT } from '../helpers/paths.js';
import { runPortico, type RunResult } from '../helpers/portico.js';
import { BAD_CONFIGS, lineOf } from '../helpers/web-fixtures.js';

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Exit 2, one line on stderr, nothing started. */
function assertStopped(result: RunResult): string {
  assert.equal(result.code, 2, `exit status; stderr:\n${result.stderr}`);
  assert.doesNotMatch(result.stderr + result.stdout, /listening on|workers? ready|booting/i, 'nothing started');
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr: ${JSON.stringify(result.stderr)}`);
  return lines[0] as string;
}

interface FileCase {
  what: string;
  file: string;
  /** The key as the message must name it. */
  key: string | null;
  /** Text of the line the message must point at. */
  line: string;
  /** Run in the file's directory without -c instead. */
  fromCwd?: boolean;
}

const FILE_CASES: FileCase[] = [
  { what: 'an unknown key', file: 'unknown-key.toml', key: 'workerz', line: 'workerz =' },
  { what: 'a misspelt table, [[mounts]]', file: 'unknown-table.toml', key: 'mounts', line: '[[mounts]]' },
  { what: 'an unknown key in a [[mount]]', file: 'unknown-mount-key.toml', key: 'mount[0].workers', line: 'workers = 2' },
  { what: 'a bad type: workers = "two"', file: 'bad-type.toml', key: 'workers', line: 'workers = "two"' },
  { what: 'a bad type in the second [[mount]]', file: 'bad-type-in-mount.toml', key: 'mount[1].workers', line: 'workers = "two"' },
  { what: "a mount path not starting with '/'", file: 'mount-path.toml', key: 'mount[1].path', line: 'path = "app"' },
  { what: 'a CGI directory that does not exist', file: 'missing-cgi.toml', key: 'mount[0].cgi', line: 'cgi = ' },
  { what: 'a static directory that does not exist', file: 'missing-static.toml', key: 'mount[0].static', line: 'static = ' },
  { what: 'a chdir that does not exist', file: 'missing-chdir.toml', key: 'mount[0].chdir', line: 'chdir = ' },
  { what: "two mounts on one prefix ('/app' and '/app/')", file: 'duplicate-prefix.toml', key: 'mount[1].path', line: 'path = "/app/"' },
  { what: 'a TOML syntax error', file: 'syntax.toml', key: null, line: 'threads = = 2' },
  {
    what: "a bad value in pyproject.toml's [tool.portico], after another tool's key of the same name",
    file: 'pyproject-line/pyproject.toml',
    key: 'tool.portico.timeout',
    line: 'timeout = "soon"',
  },
  { what: 'a broken portico.toml found in the working directory', file: 'cwd-broken/portico.toml', key: 'workers', line: 'workers = 0', fromCwd: true },
];

describe('web: a bad config file stops start-up with exit 2, naming the file, the key and the line', { timeout: 60_000 }, () => {
  for (const { what, file, key, line, fromCwd } of FILE_CASES) {
    it(what, async () => {
      const path = join(BAD_CONFIGS, file);
      const argv = fromCwd ? ['-b', '127.0.0.1:0'] : ['-c', path, '-b', '127.0.0.1:0'];
      const result = await runPortico(argv, { cwd: fromCwd ? join(path, '..') : REPO_ROOT, timeoutMs: 10_000 });
      const message = assertStopped(result);
      const expectedLine = lineOf(path, line);
      assert.match(message, new RegExp(`${escape(path)}:${expectedLine}:`), `names ${file} and line ${expectedLine} (${JSON.stringify(line)})`);
      if (key !== null) assert.match(message, new RegExp(`:\\d+: ${escape(key)}: `), `names the key ${key}`);
    });
  }

  it('-c naming a file that does not exist', async () => {
    const message = assertStopped(await runPortico(['-c', 'no-such-portico.toml', '-b', '127.0.0.1:0'], { timeoutMs: 10_000 }));
    assert.match(message, /--config/);
    assert.match(message, /no-such-portico\.toml/);
  });
});

describe('web: bad mounts on the command line stop start-up with exit 2, naming the option', { timeout: 60_000 }, () => {
  const cases: Array<[string, string[], RegExp]> = [
    ["--mount path not starting with '/'", ['--mount', 'app=hello_app:application'], /--mount: .*'app' must start with '\/'/],
    ["--cgi path not starting with '/'", ['--cgi', 'cgi-bin=./cgi-bin'], /--cgi: .*must start with '\/'/],
    ['--mount without =', ['--mount', '/app'], /--mount: expected PATH=TARGET/],
    ['--cgi directory that does not exist', ['--cgi', '/cgi-bin/=./no-such-cgi-bin'], /--cgi \/cgi-bin\/: '\.\/no-such-cgi-bin' is not a directory/],
    ['--static directory that does not exist', ['--static', '/static/=./no-such-public'], /--static \/static\/: '\.\/no-such-public' is not a directory/],
    ['--chdir that does not exist', ['--chdir', './no-such-project', 'hello_app:application'], /--chdir: '\.\/no-such-project' is not a directory/],
    ['APP and --mount / on one prefix', ['hello_app:application', '--mount', '/=hello_app:app'], /two mounts on the path '\/'/],
    ['--mount /app and --static /app/ on one prefix', ['--mount', '/app=hello_app:app', '--static', '/app/=test/fixtures/static'], /two mounts on the path '\/app'/],
  ];
  for (const [what, argv, pattern] of cases) {
    it(what, async () => {
      const message = assertStopped(await runPortico(['-b', '127.0.0.1:0', '--pythonpath', FIXTURE_APPS, ...argv], { timeoutMs: 10_000 }));
      assert.match(message, pattern);
    });
  }
});
