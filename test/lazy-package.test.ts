import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const LAZY = fileURLToPath(new URL('../src/lazy-package.js', import.meta.url));
const PACKAGES = ['pino', 'ws', 'prom-client', 'send', 'etag', 'mime-types'];

/**
 * The packages (of PACKAGES) in a fresh node's module cache after it has
 * imported the whole front, through its entry point, and then run `then`.
 */
function loadedAfter(then: string): string[] {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(CLI)});
    const lazy = await import(${JSON.stringify(LAZY)});
    ${then}
    const cache = Object.keys(createRequire(import.meta.url).cache);
    const names = ${JSON.stringify(PACKAGES)};
    console.log(JSON.stringify(names.filter((name) => cache.some((path) => path.includes('/node_modules/' + name + '/')))));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
}

describe('packages loaded on demand', () => {
  it('none is loaded by importing the front: a text-logging WSGI front without static mounts or --control-bind needs none', () => {
    assert.deepEqual(loadedAfter(''), []);
  });

  it('each is loaded by its loader, once', () => {
    const loaded = loadedAfter(`
      for (const load of [lazy.loadPino, lazy.loadWs, lazy.loadPromClient, lazy.loadSend, lazy.loadEtag, lazy.loadMimeTypes]) {
        if (load() !== load()) throw new Error('a second call loaded the package again');
      }
    `);
    assert.deepEqual(loaded.sort(), [...PACKAGES].sort());
  });
});
