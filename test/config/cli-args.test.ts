import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommandLine } from '../../src/config/cli-args.js';
import { formatHelp } from '../../src/config/help-text.js';
import type { Setting } from '../../src/config/setting.js';
import { SETTINGS } from '../../src/config/settings.js';
import { ConfigError } from '../../src/errors.js';

const noEnv = {};

function configError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof ConfigError && error.code === 'PORTICO_ERR_CONFIG' && pattern.test(error.message);
}

describe('parseCommandLine', () => {
  it('uses gunicorn defaults', () => {
    const { options } = parseCommandLine(['app:application'], noEnv);
    assert.equal(options.app, 'app:application');
    assert.deepEqual(options.bind, ['127.0.0.1:8000']);
    assert.equal(options.workers, 1);
    assert.equal(options.python, 'python3');
    assert.equal(options.keepAlive, 2);
    assert.equal(options.logLevel, 'info');
    assert.equal(options.accessLogfile, null);
  });

  it('takes defaults from PORT, WEB_CONCURRENCY and VIRTUAL_ENV', () => {
    const { options } = parseCommandLine(['app'], { PORT: '5000', WEB_CONCURRENCY: '3', VIRTUAL_ENV: '/srv/venv' });
    assert.deepEqual(options.bind, ['0.0.0.0:5000']);
    assert.equal(options.workers, 3);
    assert.equal(options.python, '/srv/venv/bin/python');
  });

  it('accepts every spelling of a value', () => {
    const { options } = parseCommandLine(
      ['-w', '4', '--bind=0.0.0.0:9000', '-b[::1]:9001', '-b', 'unix:/tmp/p.sock', '-e', 'A=1', '--env=B=x=y', '--pythonpath', 'a, b', 'app:create_app()'],
      noEnv,
    );
    assert.equal(options.workers, 4);
    assert.deepEqual(options.bind, ['0.0.0.0:9000', '[::1]:9001', 'unix:/tmp/p.sock']);
    assert.deepEqual(options.env, { A: '1', B: 'x=y' });
    assert.deepEqual(options.pythonpath, ['a', 'b']);
    assert.equal(options.app, 'app:create_app()');
  });

  it('names the option in every error', () => {
    assert.throws(() => parseCommandLine(['--wokers', '2', 'app'], noEnv), configError(/unknown option '--wokers'/));
    assert.throws(() => parseCommandLine(['-w', 'two', 'app'], noEnv), configError(/^-w: expected a whole number/));
    assert.throws(() => parseCommandLine(['-w', '0', 'app'], noEnv), configError(/^-w: expected a whole number of at least 1/));
    assert.throws(() => parseCommandLine(['--bind', 'nowhere', 'app'], noEnv), configError(/^--bind: expected HOST:PORT/));
    assert.throws(() => parseCommandLine(['-b', 'h:70000', 'app'], noEnv), configError(/^-b: /));
    assert.throws(() => parseCommandLine(['-e', 'NOVALUE', 'app'], noEnv), configError(/^-e: expected KEY=VALUE/));
    assert.throws(() => parseCommandLine(['--log-level', 'loud', 'app'], noEnv), configError(/^--log-level: expected one of/));
    assert.throws(() => parseCommandLine(['app', '--workers'], noEnv), configError(/^--workers needs a value/));
    assert.throws(() => parseCommandLine(['a', 'b'], noEnv), configError(/expected one application/));
    assert.throws(() => parseCommandLine(['app'], { WEB_CONCURRENCY: 'lots' }), configError(/^\$WEB_CONCURRENCY/));
  });

  it("uses gunicorn's limits and the hardening defaults", () => {
    const { options } = parseCommandLine(['app'], noEnv);
    assert.equal(options.limitRequestLine, 4094);
    assert.equal(options.limitRequestFields, 100);
    assert.equal(options.limitRequestFieldSize, 8190);
    assert.equal(options.limitRequestBody, 1024 ** 3);
    assert.equal(options.maxConnections, 0, 'no connection limit unless asked');
    assert.equal(options.forwardedAllowIps, '127.0.0.1,::1');
    assert.equal(options.proxyProtocol, false);
    assert.equal(options.headersTimeout, 10);
    assert.equal(options.bodyTimeout, 30);
  });

  it('takes 0 for the limits that mean "none" by it, and both spellings of field_size', () => {
    const { options } = parseCommandLine(
      ['--limit-request-line', '0', '--limit-request-fields=0', '--limit-request-field_size', '0', '--limit-request-body', '0', '--max-connections', '0', '--body-timeout', '0', 'app'],
      noEnv,
    );
    assert.deepEqual(
      [options.limitRequestLine, options.limitRequestFields, options.limitRequestFieldSize, options.limitRequestBody, options.maxConnections, options.bodyTimeout],
      [0, 0, 0, 0, 0, 0],
    );
    assert.equal(parseCommandLine(['--limit-request-field-size', '77', 'app'], noEnv).options.limitRequestFieldSize, 77);
    assert.equal(parseCommandLine(['--max-connections', '3', 'app'], noEnv).options.maxConnections, 3);
    assert.throws(() => parseCommandLine(['--limit-request-body', '-1', 'app'], noEnv), configError(/^--limit-request-body: expected a whole number of at least 0/));
    assert.throws(() => parseCommandLine(['--max-connections', '1.5', 'app'], noEnv), configError(/^--max-connections: /));
    assert.throws(() => parseCommandLine(['--headers-timeout', '0', 'app'], noEnv), configError(/^--headers-timeout: expected more than 0/));
  });

  it('defaults --timeout and --graceful-timeout to 30 s, and takes -t for --timeout', () => {
    const { options } = parseCommandLine(['app'], noEnv);
    assert.equal(options.timeout, 30);
    assert.equal(options.gracefulTimeout, 30);
    assert.equal(parseCommandLine(['-t', '5', 'app'], noEnv).options.timeout, 5);
    assert.equal(parseCommandLine(['-t0', 'app'], noEnv).options.timeout, 0, '0 turns it off');
    assert.equal(parseCommandLine(['--timeout=2.5', '--graceful-timeout', '7', 'app'], noEnv).options.timeout, 2.5);
    assert.equal(parseCommandLine(['--graceful-timeout', '7', 'app'], noEnv).options.gracefulTimeout, 7);
    assert.throws(() => parseCommandLine(['-t', 'soon', 'app'], noEnv), configError(/^-t: expected a number of seconds/));
  });

  it('takes --forwarded-allow-ips from $FORWARDED_ALLOW_IPS, the command line winning', () => {
    const env = { FORWARDED_ALLOW_IPS: '10.0.0.0/8, 192.0.2.1' };
    assert.equal(parseCommandLine(['app'], env).options.forwardedAllowIps, '10.0.0.0/8, 192.0.2.1');
    assert.equal(parseCommandLine(['--forwarded-allow-ips', '*', 'app'], env).options.forwardedAllowIps, '*');
    assert.equal(parseCommandLine(['--forwarded-allow-ips=', 'app'], env).options.forwardedAllowIps, '', 'an empty value trusts no one');
    // gunicorn reads os.environ.get('FORWARDED_ALLOW_IPS', '127.0.0.1,::1'): set but empty is not unset.
    assert.equal(parseCommandLine(['app'], { FORWARDED_ALLOW_IPS: '' }).options.forwardedAllowIps, '', 'set but empty trusts no one');
    assert.throws(() => parseCommandLine(['--forwarded-allow-ips', '10.0.0.0/33', 'app'], noEnv), configError(/^--forwarded-allow-ips: /));
    assert.throws(() => parseCommandLine(['app'], { FORWARDED_ALLOW_IPS: 'not-an-address' }), configError(/^\$FORWARDED_ALLOW_IPS: /));
  });

  it('needs no application for --help and --version', () => {
    assert.equal(parseCommandLine(['--help'], noEnv).help, true);
    assert.equal(parseCommandLine(['--version'], noEnv).version, true);
  });
});

describe('formatHelp', () => {
  it('lists every setting with its default and its variable', () => {
    const help = formatHelp();
    for (const [key, setting] of Object.entries(SETTINGS) as Array<[string, Setting]>) {
      for (const option of [setting, ...(setting.also ?? [])]) for (const flag of option.flags) assert.ok(help.includes(flag), `--help lacks ${flag}`);
      if (setting.flags.length === 0) continue;
      assert.ok(help.includes(`[default: ${setting.defaultText}]`), `--help lacks the default of ${key}`);
      if (setting.env !== undefined) assert.ok(help.includes(`($${setting.env})`), `--help lacks $${setting.env}`);
    }
  });

  it('groups the options by section, --help and --version last', () => {
    const headings = formatHelp().split('\n').filter((line) => /^[A-Z][a-z ]+:$/.test(line));
    assert.deepEqual(headings, ['Application:', 'Listening:', 'Workers:', 'Request limits:', 'Proxies:', 'Logging:', 'Development:', 'Other:']);
    const workers = formatHelp().split('\n\n').find((block) => block.startsWith('Workers:')) ?? '';
    assert.match(workers, /--max-requests-jitter/);
    assert.doesNotMatch(workers, /--bind/);
  });
});

describe('ASGI settings on the command line', () => {
  it('detects the interface by default, and takes it by name', () => {
    assert.equal(parseCommandLine(['main:app'], noEnv).options.interface, 'auto');
    assert.equal(parseCommandLine(['--interface', 'asgi', 'main:app'], noEnv).options.interface, 'asgi');
    assert.throws(() => parseCommandLine(['--interface', 'rsgi', 'main:app'], noEnv), configError(/^--interface: expected one of auto, wsgi, asgi, got 'rsgi'/));
  });

  it("takes gunicorn's worker classes for the interface they mean", () => {
    const interfaceOf = (name: string): string => parseCommandLine(['-k', name, 'main:app'], noEnv).options.interface;
    assert.equal(interfaceOf('sync'), 'wsgi');
    assert.equal(interfaceOf('gthread'), 'wsgi');
    assert.equal(interfaceOf('asgi'), 'asgi');
    assert.equal(interfaceOf('uvicorn.workers.UvicornWorker'), 'asgi');
    assert.equal(interfaceOf('uvicorn_worker.UvicornWorker'), 'asgi');
    assert.equal(parseCommandLine(['--worker-class=uvicorn.workers.UvicornWorker', 'main:app'], noEnv).options.interface, 'asgi');
    assert.throws(() => parseCommandLine(['-k', 'gevent', 'main:app'], noEnv), configError(/^-k: portico runs .*got 'gevent' \(use --interface wsgi or asgi\)/));
  });

  it('takes --worker-connections, --asgi-lifespan and --root-path, and refuses bad values naming the option', () => {
    const { options } = parseCommandLine(['-w', '4', '--worker-connections', '2000', '--asgi-lifespan', 'on', '--root-path', '/api/', 'main:app'], noEnv);
    assert.equal(options.workerConnections, 2000);
    assert.equal(options.asgiLifespan, 'on');
    assert.equal(options.rootPath, '/api');
    assert.equal(parseCommandLine(['main:app'], noEnv).options.workerConnections, 1000);
    assert.throws(() => parseCommandLine(['--worker-connections', '0', 'main:app'], noEnv), configError(/^--worker-connections: expected a whole number of at least 1/));
    assert.throws(() => parseCommandLine(['--asgi-lifespan', 'maybe', 'main:app'], noEnv), configError(/^--asgi-lifespan: expected one of auto, on, off/));
    assert.throws(() => parseCommandLine(['--root-path', 'api', 'main:app'], noEnv), configError(/^--root-path: expected a path that starts with '\/'/));
  });
});
