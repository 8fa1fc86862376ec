import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const LAZY = fileURLToPath(new URL('../src/lazy-package.js', import.meta.url));
const PACKAGES = ['pino', 'ws', 'prom-client', 'send', 'etag', 'mime-types'];
const BUILTINS = ['https', 'tls', 'http2'];

/**
 * The packages (of PACKAGES) in a fresh node's module cache, and Node's
 * built-in modules (of BUILTINS) it has loaded, after it has imported the
 * whole front, through its entry point, and then run `then`.
 */
function loadedAfter(then: string): string[] {
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(CLI)});
    const lazy = await import(${JSON.stringify(LAZY)});
    ${then}
    const cache = Object.keys(createRequire(import.meta.url).cache);
    const packages = ${JSON.stringify(PACKAGES)}.filter((name) => cache.some((path) => path.includes('/node_modules/' + name + '/')));
    const builtins = ${JSON.stringify(BUILTINS)}.filter((name) => process.moduleLoadList.includes('NativeModule ' + name));
    console.log(JSON.stringify([...packages, ...builtins.map((name) => 'node:' + name)]));
  `;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
}

describe('packages loaded on demand', () => {
  it('none is loaded by importing the front: a plain HTTP/1.1, text-logging WSGI front without static mounts or --control-bind needs none', () => {
    assert.deepEqual(loadedAfter(''), []);
  });

  it('each is loaded by its loader, once', () => {
    const loaded = loadedAfter(`
      const loaders = [lazy.loadPino, lazy.loadWs, lazy.loadPromClient, lazy.loadSend, lazy.loadEtag, lazy.loadMimeTypes, lazy.loadHttps, lazy.loadTls, lazy.loadHttp2];
      for (const load of loaders) {
        if (load() !== load()) throw new Error('a second call loaded the package again');
      }
    `);
    assert.deepEqual(loaded.sort(), [...PACKAGES, ...BUILTINS.map((name) => `node:${name}`)].sort());
  });
});
