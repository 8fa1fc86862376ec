import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadOptions } from '../../src/config/load-options.js';
import { ConfigError } from '../../src/errors.js';
import { REPO_ROOT } from '../helpers/paths.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { WEB_FIXTURES, WEB_SITE, WEB_SITE_CONFIG } from '../helpers/web-fixtures.js';

const noEnv = {};

describe('loadOptions: portico dev', () => {
  it('turns on reload, debug and the access log on stdout, on 127.0.0.1:8000', () => {
    const { options } = loadOptions(['dev', 'app:application'], noEnv, REPO_ROOT);
    assert.equal(options.app, 'app:application');
    assert.equal(options.reload, true);
    assert.equal(options.debug, true);
    assert.equal(options.accessLogfile, '-');
    assert.deepEqual(options.bind, ['127.0.0.1:8000']);
  });

  it('stays on loopback when PORT is set', () => {
    const { options } = loadOptions(['dev', 'app:application'], { PORT: '5000' }, REPO_ROOT);
    assert.deepEqual(options.bind, ['127.0.0.1:8000'], 'dev never binds 0.0.0.0 on its own');
  });

  it('lets the command line override each of its defaults', () => {
    const { options } = loadOptions(['dev', '-b', '127.0.0.1:0', '--access-logfile', '/tmp/access.log', 'app:application'], noEnv, REPO_ROOT);
    assert.deepEqual(options.bind, ['127.0.0.1:0']);
    assert.equal(options.accessLogfile, '/tmp/access.log');
    assert.equal(options.reload, true);
  });

  it('is only a subcommand in first place', () => {
    const { options } = loadOptions(['app:application'], noEnv, REPO_ROOT);
    assert.equal(options.reload, false);
    assert.equal(options.debug, false);
    assert.equal(options.accessLogfile, null);
  });
});

describe('loadOptions: sources', () => {
  it('reads portico.toml from the working directory', () => {
    const { options } = loadOptions([], noEnv, WEB_SITE);
    assert.equal(options.config, WEB_SITE_CONFIG);
    assert.deepEqual(options.mounts.map((m) => [m.kind, m.path]), [['app', '/app'], ['cgi', '/cgi-bin/'], ['static', '/static/']]);
  });

  it('prefers portico.toml to pyproject.toml in the same directory', () => {
    const temp = makeTempDir('portico-both-');
    try {
      writeFileSync(join(temp.path, 'portico.toml'), 'workers = 3\n[[mount]]\npath = "/"\napp = "a:b"\n');
      writeFileSync(join(temp.path, 'pyproject.toml'), '[tool.portico]\nworkers = 5\n[[tool.portico.mount]]\npath = "/"\napp = "c:d"\n');
      const { options } = loadOptions([], noEnv, temp.path);
      assert.equal(options.config, join(temp.path, 'portico.toml'));
      assert.equal(options.workers, 3);
    } finally {
      temp.remove();
    }
  });

  it('reads [tool.portico] from pyproject.toml, with its mounts', () => {
    const { options } = loadOptions([], noEnv, join(WEB_FIXTURES, 'pyproject'));
    assert.match(options.config ?? '', /pyproject\.toml$/);
    assert.deepEqual(options.mounts.map((m) => [m.kind, m.path]), [['app', '/py'], ['static', '/files']]);
  });

  it('reads nothing when there is no config file, and needs an application then', () => {
    assert.equal(loadOptions(['app:application'], noEnv, REPO_ROOT).options.config, null);
    assert.throws(() => loadOptions([], noEnv, REPO_ROOT), (error: unknown) => error instanceof ConfigError && /missing the application/.test(error.message));
  });

  it("lays the command line over the file's settings, and its mounts after the file's", () => {
    const { options } = loadOptions(['-c', WEB_SITE_CONFIG, '-w', '4', '--cgi', '/more-cgi/=./cgi-bin', 'root:app'], noEnv, REPO_ROOT);
    assert.equal(options.workers, 4, "-w beats the file's workers = 1");
    assert.equal(options.app, 'root:app');
    assert.deepEqual(options.mounts.map((m) => m.path), ['/app', '/cgi-bin/', '/static/', '/more-cgi/']);
  });

  it('keeps the file setting where the command line says nothing, over the default and the environment', () => {
    const { options } = loadOptions(['-c', WEB_SITE_CONFIG], { WEB_CONCURRENCY: '7' }, REPO_ROOT);
    assert.equal(options.workers, 1, "the file's workers = 1 beats $WEB_CONCURRENCY");
    assert.deepEqual(options.env, { PORTICO_TEST_SOURCE: 'site/portico.toml' });
  });

  it('reads the limits, --max-connections and the proxy settings from the file, over $FORWARDED_ALLOW_IPS and under the command line', () => {
    const temp = makeTempDir('portico-hardening-');
    try {
      writeFileSync(
        join(temp.path, 'portico.toml'),
        [
          'app = "a:b"',
          'limit-request-line = 0',
          'limit-request-fields = 0',
          'limit-request-field_size = 0',
          'limit-request-body = 0',
          'max-connections = 10',
          'forwarded-allow-ips = "10.0.0.0/8, ::1"',
          'proxy-protocol = true',
          '',
        ].join('\n'),
      );
      const env = { FORWARDED_ALLOW_IPS: '192.0.2.1' };
      const { options } = loadOptions([], env, temp.path);
      assert.deepEqual(
        [options.limitRequestLine, options.limitRequestFields, options.limitRequestFieldSize, options.limitRequestBody, options.maxConnections],
        [0, 0, 0, 0, 10],
      );
      assert.equal(options.forwardedAllowIps, '10.0.0.0/8, ::1', "the file's value beats $FORWARDED_ALLOW_IPS");
      assert.equal(options.proxyProtocol, true);
      const given = loadOptions(['--forwarded-allow-ips', '*', '--limit-request-body', '5'], env, temp.path).options;
      assert.equal(given.forwardedAllowIps, '*');
      assert.equal(given.limitRequestBody, 5);
      writeFileSync(join(temp.path, 'portico.toml'), 'app = "a:b"\nforwarded-allow-ips = "10.0.0.0/40"\n');
      assert.throws(() => loadOptions([], noEnv, temp.path), (error: unknown) => error instanceof ConfigError && /portico\.toml:2: forwarded-allow-ips: /.test(error.message));
    } finally {
      temp.remove();
    }
  });
});

describe('loadOptions: precedence', () => {
  it('takes the command line over the file, the file over PORTICO_*, PORTICO_* over the defaults', () => {
    const temp = makeTempDir('portico-precedence-');
    try {
      writeFileSync(join(temp.path, 'portico.toml'), 'app = "a:b"\nthreads = 3\ntimeout = 7\n');
      const env = { PORTICO_WORKERS: '4', PORTICO_THREADS: '5', PORTICO_TIMEOUT: '9', PORTICO_BACKLOG: '11', WEB_CONCURRENCY: '6' };
      const { options } = loadOptions(['--timeout', '8'], env, temp.path);
      assert.equal(options.timeout, 8, 'command line over file');
      assert.equal(options.threads, 3, 'file over environment');
      assert.equal(options.workers, 4, 'PORTICO_WORKERS over the WEB_CONCURRENCY default');
      assert.equal(options.backlog, 11, 'environment over default');
      assert.equal(options.maxRequests, 0, 'default');
      assert.equal(loadOptions([], { WEB_CONCURRENCY: '6' }, temp.path).options.workers, 6);
    } finally {
      temp.remove();
    }
  });

  it("reads on/off settings from words, an empty variable as unset, and names the variable in errors", () => {
    assert.equal(loadOptions(['a:b'], { PORTICO_PRELOAD: 'yes' }, REPO_ROOT).options.preload, true);
    assert.equal(loadOptions(['a:b'], { PORTICO_PRELOAD: '0' }, REPO_ROOT).options.preload, false);
    assert.equal(loadOptions(['a:b'], { PORTICO_WORKERS: '' }, REPO_ROOT).options.workers, 1);
    assert.throws(
      () => loadOptions(['--workers', '2', 'a:b'], { PORTICO_WORKERS: 'two' }, REPO_ROOT),
      (error) => error instanceof ConfigError && /^\$PORTICO_WORKERS: expected a whole number/.test(error.message),
      'a bad variable is an error even where the command line overrides it, as a bad WEB_CONCURRENCY is',
    );
    assert.throws(() => loadOptions(['a:b'], { PORTICO_DEBUG: 'maybe' }, REPO_ROOT), /^ConfigError: \$PORTICO_DEBUG: expected 1, true/);
    assert.throws(() => loadOptions(['a:b'], { PORTICO_CONFIG: 'nope.toml' }, REPO_ROOT), /^ConfigError: \$PORTICO_CONFIG: no such file 'nope.toml'/);
  });

  it("puts PORTICO_* over portico dev's defaults, which are defaults", () => {
    const { options } = loadOptions(['dev', 'a:b'], { PORTICO_DEBUG: 'false', PORTICO_ACCESS_LOGFILE: '/tmp/a.log' }, REPO_ROOT);
    assert.equal(options.debug, false);
    assert.equal(options.accessLogfile, '/tmp/a.log');
    assert.equal(options.reload, true);
  });
});
