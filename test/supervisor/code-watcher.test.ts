/**
 * What --reload watches: the file an APP spec names (decided as the Python
 * loader decides), and the changes CodeWatcher reports, over real files.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CodeWatcher, appScriptFile } from '../../src/supervisor/code-watcher.js';
import { makeTempDir } from '../helpers/temp-dir.js';

describe('appScriptFile', () => {
  const temp = makeTempDir('portico-app-file-');
  after(() => temp.remove());
  const chdir = join(temp.path, 'run');
  mkdirSync(chdir);
  mkdirSync(join(temp.path, 'site'));
  mkdirSync(join(chdir, 'proj'));
  writeFileSync(join(temp.path, 'site', 'app.py'), '');
  writeFileSync(join(chdir, 'local.wsgi'), '');
  writeFileSync(join(chdir, 'proj', 'wsgi.py'), '');

  it('resolves a path against --chdir, with or without a callable', () => {
    assert.equal(appScriptFile('../site/app.py', chdir), join(temp.path, 'site', 'app.py'));
    assert.equal(appScriptFile(' ../site/app.py:application ', chdir), join(temp.path, 'site', 'app.py'));
    assert.equal(appScriptFile(join(temp.path, 'site', 'app.py'), '/'), join(temp.path, 'site', 'app.py'));
    assert.equal(appScriptFile('local.wsgi:make()', chdir), join(chdir, 'local.wsgi'));
  });

  it('is null for a module, even one named like a script, and for a file that does not exist', () => {
    assert.equal(appScriptFile('proj.wsgi:application', chdir), null, "Django's proj.wsgi is a module");
    assert.equal(appScriptFile('proj.wsgi', chdir), null);
    assert.equal(appScriptFile('app:application', chdir), null);
    assert.equal(appScriptFile('../site/missing.py', chdir), null);
    assert.equal(appScriptFile('proj', chdir), null);
    assert.equal(appScriptFile('./proj', chdir), null, 'a directory is not a script');
  });
});

describe('CodeWatcher', { timeout: 10_000 }, () => {
  const temp = makeTempDir('portico-code-watcher-');
  after(() => temp.remove());

  /** Resolves with the first path reported after `change` runs, or null after `ms`. */
  function reported(directories: string[], extraFiles: string[], change: () => void, ms = 3_000): Promise<string | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        watcher.close();
        resolve(null);
      }, ms);
      const watcher = new CodeWatcher(directories, extraFiles, (path) => {
        clearTimeout(timer);
        watcher.close();
        resolve(path);
      });
      change();
    });
  }

  it('reports a .py file changed anywhere in a watched tree, but not other files', async () => {
    const tree = join(temp.path, 'tree');
    mkdirSync(join(tree, 'pkg'), { recursive: true });
    writeFileSync(join(tree, 'pkg', 'mod.py'), 'x = 1\n');
    assert.equal(await reported([tree], [], () => writeFileSync(join(tree, 'pkg', 'mod.py'), 'x = 2\n')), join(tree, 'pkg', 'mod.py'));
    assert.equal(await reported([tree], [], () => writeFileSync(join(tree, 'notes.txt'), 'hi\n'), 600), null);
  });

  it('reports an extra file of any kind, and nothing else beside it', async () => {
    const conf = join(temp.path, 'conf');
    mkdirSync(conf);
    const file = join(conf, 'settings.toml');
    writeFileSync(file, 'a = 1\n');
    assert.equal(await reported([], [file], () => writeFileSync(file, 'a = 2\n')), file);
    assert.equal(await reported([], [file], () => writeFileSync(join(conf, 'other.py'), ''), 600), null);
  });
});
