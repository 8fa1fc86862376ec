import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { pickPoolSettings, workerConfig } from '../../src/config/mount-spec.js';
import { parseBind } from '../../src/config/parse-bind.js';
import { defaultOptions } from '../../src/config/setting-defaults.js';
import { SECTIONS, type Setting } from '../../src/config/setting.js';
import { MOUNT_SETTING_KEYS, SETTINGS, WORKER_SETTING_KEYS } from '../../src/config/settings.js';
import { ConfigError } from '../../src/errors.js';

const ENTRIES = Object.entries(SETTINGS) as Array<[string, Setting]>;
const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));
const PYTHON = fileURLToPath(new URL('../../../python/', import.meta.url));

describe('the settings table', () => {
  it('names each variable PORTICO_ and the key in capitals, and gives one to every setting that is not repeatable', () => {
    for (const [key, setting] of ENTRIES) {
      const snake = `PORTICO_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
      if (setting.multiple) assert.equal(setting.env, undefined, `${key} is repeatable: one variable cannot say it`);
      else assert.equal(setting.env, snake, key);
    }
  });

  it('puts every setting in a known section, and every flag once', () => {
    const flags = ENTRIES.flatMap(([, setting]) => [setting, ...(setting.also ?? [])].flatMap((option) => option.flags));
    assert.equal(new Set(flags).size, flags.length);
    for (const [key, setting] of ENTRIES) assert.ok((SECTIONS as readonly string[]).includes(setting.section), key);
  });

  it("lets a [[mount]] set what a WSGI mount's pool takes (scope 'mount')", () => {
    assert.deepEqual(
      [...MOUNT_SETTING_KEYS].sort(),
      [
        'asgiLifespan', 'backlog', 'chdir', 'env', 'interface', 'maxRequests', 'maxRequestsJitter', 'maxWorkerLifetime', 'maxWorkerLifetimeJitter',
        'maxWorkerMemory', 'preload', 'python', 'pythonpath', 'threads', 'timeout', 'workerConnections', 'workers', 'workersIdleTimeout', 'workersMax',
      ],
    );
    const pool = pickPoolSettings(defaultOptions({}));
    assert.deepEqual(Object.keys(pool).sort(), [...MOUNT_SETTING_KEYS].sort());
  });

  it('sends the worker exactly the settings marked worker, which its runtime reads', () => {
    assert.deepEqual([...WORKER_SETTING_KEYS].sort(), ['app', 'asgiLifespan', 'debug', 'interface', 'pythonpath', 'threads']);
    const config = workerConfig({ app: 'a:b', pythonpath: ['x'], threads: 2, debug: false, interface: 'asgi', asgiLifespan: 'on' });
    assert.deepEqual(config, { app: 'a:b', pythonpath: ['x'], threads: 2, debug: false, interface: 'asgi', asgiLifespan: 'on', multiprocess: true });
    const runtime = readdirSync(join(PYTHON, 'portico')).filter((name) => name.endsWith('.py')).map((name) => readFileSync(join(PYTHON, 'portico', name), 'utf8')).join('\n');
    for (const key of Object.keys(config)) assert.match(runtime, new RegExp(`["']${key}["']`), `the Python runtime never reads "${key}"`);
  });
});

describe('parseBind', () => {
  const common = { tls: null, protocol: 'http/1.1' };
  it('makes the value a listener takes, once', () => {
    assert.deepEqual(parseBind('127.0.0.1:8000'), { kind: 'tcp', host: '127.0.0.1', port: 8000, text: '127.0.0.1:8000', ...common });
    assert.deepEqual(parseBind('[::1]:0'), { kind: 'tcp', host: '::1', port: 0, text: '[::1]:0', ...common });
    assert.deepEqual(parseBind(':9000'), { kind: 'tcp', host: '0.0.0.0', port: 9000, text: ':9000', ...common });
    assert.deepEqual(parseBind('9000'), { kind: 'tcp', host: '0.0.0.0', port: 9000, text: '9000', ...common });
    assert.deepEqual(parseBind('localhost:80'), { kind: 'tcp', host: 'localhost', port: 80, text: 'localhost:80', ...common });
    assert.deepEqual(parseBind('unix:/run/p.sock'), { kind: 'unix', path: '/run/p.sock', text: 'unix:/run/p.sock', ...common });
  });

  it('names the flag in its errors', () => {
    for (const raw of ['nowhere', 'h:70000', '[::1]', 'a:b:1', 'unix:']) {
      assert.throws(() => parseBind(raw, '-b'), (error) => error instanceof ConfigError && error.message.startsWith('-b: '), raw);
    }
  });
});

describe('module graph', () => {
  it('keeps http/ from importing config/: config parses, the listener takes the result', () => {
    for (const name of readdirSync(join(SRC, 'http'))) {
      assert.doesNotMatch(readFileSync(join(SRC, 'http', name), 'utf8'), /from '\.\.\/config\//, `src/http/${name}`);
    }
  });
});
