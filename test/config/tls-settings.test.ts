/**
 * The TLS settings from the command line, the environment and the config
 * file, into what the listeners take (tlsSettings): [[certificate]] tables,
 * file names found from the config file's directory, and the combinations
 * that cannot work, refused by name.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tlsSettings } from '../../src/config/listener-settings.js';
import { loadOptions } from '../../src/config/load-options.js';
import { ConfigError } from '../../src/errors.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const noEnv = {};

function settingsOf(argv: string[], env: NodeJS.ProcessEnv = noEnv, cwd = '/'): ReturnType<typeof tlsSettings> {
  return tlsSettings(loadOptions([...argv, 'app:application'], env, cwd).options);
}

function refused(argv: string[], message: RegExp): void {
  assert.throws(() => settingsOf(argv), (error: unknown) => error instanceof ConfigError && message.test(error.message));
}

describe('TLS settings', () => {
  let temp: { path: string; remove(): void };
  before(() => (temp = makeTempDir('portico-tls-settings-')));
  after(() => temp.remove());

  it('are off without a certificate', () => {
    assert.equal(settingsOf([]), null);
  });

  it('make --certfile and --keyfile the default certificate, with the defaults of gunicorn', () => {
    assert.deepEqual(settingsOf(['--certfile', 'site.crt', '--keyfile', 'site.key']), {
      certificates: [{ certfile: 'site.crt', keyfile: 'site.key', hosts: null, certOption: '--certfile', keyOption: '--keyfile' }],
      caCerts: null,
      certReqs: 0,
      ciphers: null,
    });
  });

  it('take --cert-reqs as a number or a name, and from $PORTICO_CERT_REQS', () => {
    const args = ['--certfile', 'a.crt', '--ca-certs', 'ca.pem'];
    assert.equal(settingsOf([...args, '--cert-reqs', '1'])?.certReqs, 1);
    assert.equal(settingsOf([...args, '--cert-reqs', 'required'])?.certReqs, 2);
    assert.equal(settingsOf(args, { PORTICO_CERT_REQS: '2' })?.certReqs, 2);
  });

  it('add --certificate after --certfile, with its hosts', () => {
    const settings = settingsOf(['--certfile', 'a.crt', '--keyfile', 'a.key', '--certificate', 'b.crt,b.key,b.test,*.b.test', '--certificate', 'c.crt,c.key']);
    assert.deepEqual(settings?.certificates.slice(1), [
      { certfile: 'b.crt', keyfile: 'b.key', hosts: ['b.test', '*.b.test'], certOption: 'certificate[0].certfile', keyOption: 'certificate[0].keyfile' },
      { certfile: 'c.crt', keyfile: 'c.key', hosts: null, certOption: 'certificate[1].certfile', keyOption: 'certificate[1].keyfile' },
    ]);
  });

  it('read [[certificate]] tables, and find every TLS file from the config file\'s directory', () => {
    const config = join(temp.path, 'portico.toml');
    writeFileSync(
      config,
      'certfile = "certs/a.crt"\nkeyfile = "/abs/a.key"\nca-certs = "ca.pem"\n\n[[certificate]]\ncertfile = "b.crt"\nkeyfile = "b.key"\nhosts = ["b.test"]\n\n[[certificate]]\ncertfile = "c.pem"\n',
    );
    const settings = settingsOf(['-c', config]);
    assert.deepEqual(
      settings?.certificates.map(({ certfile, keyfile, hosts }) => ({ certfile, keyfile, hosts })),
      [
        { certfile: join(temp.path, 'certs/a.crt'), keyfile: '/abs/a.key', hosts: null },
        { certfile: join(temp.path, 'b.crt'), keyfile: join(temp.path, 'b.key'), hosts: ['b.test'] },
        { certfile: join(temp.path, 'c.pem'), keyfile: null, hosts: null },
      ],
    );
    assert.equal(settings?.caCerts, join(temp.path, 'ca.pem'));
  });

  it('refuse a [[certificate]] without certfile, with unknown keys, or hosts that are not a list', () => {
    const config = join(temp.path, 'bad.toml');
    for (const [table, message] of [
      ['keyfile = "k.pem"', /bad\.toml:\d+: certificate: certificate\[0\] needs certfile/],
      ['certfile = "a.crt"\nhost = ["x"]', /certificate: unknown key 'host' in certificate\[0\]/],
      ['certfile = "a.crt"\nhosts = "x.test"', /certificate: certificate\[0\]\.hosts: expected a list of host names/],
    ] as const) {
      writeFileSync(config, `[[certificate]]\n${table}\n`);
      assert.throws(() => settingsOf(['-c', config]), (error: unknown) => error instanceof ConfigError && message.test(error.message), table);
    }
    writeFileSync(config, 'certificate = "a.crt,a.key"\n');
    assert.throws(() => settingsOf(['-c', config]), /expected \[\[certificate\]\] tables/);
  });

  it('refuse what cannot work, naming the option', () => {
    refused(['--keyfile', 'a.key'], /^--keyfile needs --certfile/);
    refused(['--ca-certs', 'ca.pem'], /^--ca-certs is for TLS/);
    refused(['--cert-reqs', '1'], /^--cert-reqs is for TLS/);
    refused(['--ciphers', 'HIGH'], /^--ciphers is for TLS/);
    refused(['--certfile', 'a.crt', '--cert-reqs', '2'], /^--cert-reqs 2 needs --ca-certs/);
    refused(['--certfile', 'a.crt', '--protocol', 'uwsgi'], /^--certfile and --protocol uwsgi cannot be used together/);
    assert.throws(() => loadOptions(['--cert-reqs', 'maybe', 'a:b'], noEnv, '/'), /--cert-reqs: expected 0 \(none\), 1 \(optional\) or 2 \(required\), got 'maybe'/);
    assert.throws(() => loadOptions(['--certificate', 'only.crt', 'a:b'], noEnv, '/'), /--certificate: expected CERTFILE,KEYFILE/);
  });
});
