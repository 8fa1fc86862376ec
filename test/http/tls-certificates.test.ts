/**
 * The PEM checks behind --certfile, --keyfile, --ca-certs and
 * [[certificate]]: what loads, and for what does not, one message naming
 * the option and the file, with a stable code. Certificates are made here,
 * with openssl.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TlsCertificateError } from '../../src/http/tls-certificate-error.js';
import { loadCaCertificates, loadCertificate, type CertificateSource } from '../../src/http/tls-certificates.js';
import { ConfigError } from '../../src/errors.js';
import { makeTestPki, type TestPki } from '../helpers/test-pki.js';

function source(certfile: string, keyfile: string | null, hosts: string[] | null = null): CertificateSource {
  return { certfile, keyfile, hosts, certOption: '--certfile', keyOption: '--keyfile' };
}

function refusal(run: () => unknown): TlsCertificateError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof TlsCertificateError, String(error));
    return error;
  }
  assert.fail('no error');
}

describe('TLS certificate files', () => {
  let pki: TestPki;
  before(() => (pki = makeTestPki()));
  after(() => pki.remove());

  it('loads a certificate and its key, with the names it holds for SNI', () => {
    const { certificate, warnings } = loadCertificate(source(pki.server.cert, pki.server.key));
    assert.deepEqual(warnings, []);
    assert.equal(certificate.subject, 'CN=portico-server-one,O=Portico Tests');
    assert.deepEqual(certificate.hosts, ['localhost']);
    assert.match(certificate.key.toString(), /^-----BEGIN PRIVATE KEY-----/);
  });

  it('keeps a chain in the certfile whole, leaf first', () => {
    const { certificate } = loadCertificate(source(pki.server.chain, pki.server.key));
    assert.equal(certificate.cert.toString().match(/BEGIN CERTIFICATE/g)?.length, 2);
    assert.equal(certificate.subject, 'CN=portico-server-one,O=Portico Tests');
  });

  it('takes the hosts given over the names in the certificate, and wildcards as they are', () => {
    assert.deepEqual(loadCertificate(source(pki.beta.cert, pki.beta.key)).certificate.hosts, ['beta.test', '*.beta.test']);
    assert.deepEqual(loadCertificate(source(pki.beta.cert, pki.beta.key, ['Www.Example.com'])).certificate.hosts, ['www.example.com']);
  });

  it('finds the key in the certfile when no keyfile is given', () => {
    const both = join(pki.dir, 'both.pem');
    writeFileSync(both, `${readText(pki.server.cert)}${readText(pki.server.key)}`);
    assert.equal(loadCertificate(source(both, null)).certificate.subject, 'CN=portico-server-one,O=Portico Tests');
  });

  it('says which option and file are missing', () => {
    const missing = join(pki.dir, 'nope.crt');
    const error = refusal(() => loadCertificate(source(missing, pki.server.key)));
    assert.equal(error.code, 'PORTICO_ERR_TLS_CERTIFICATE');
    assert.ok(error instanceof ConfigError, 'a ConfigError: exit status 2 at start-up');
    assert.equal(error.message, `--certfile ${missing}: no such file`);
    assert.equal(refusal(() => loadCertificate(source(pki.server.cert, missing))).message, `--keyfile ${missing}: no such file`);
  });

  it('says when a file cannot be read', { skip: process.getuid?.() === 0 ? 'root reads any file' : false }, () => {
    const locked = join(pki.dir, 'locked.key');
    writeFileSync(locked, readText(pki.server.key));
    chmodSync(locked, 0o000);
    assert.equal(refusal(() => loadCertificate(source(pki.server.cert, locked))).message, `--keyfile ${locked}: not readable (permission denied)`);
  });

  it('refuses a file that is not PEM, and a certificate that is not one', () => {
    const junk = join(pki.dir, 'junk.crt');
    writeFileSync(junk, 'hello\n');
    assert.match(refusal(() => loadCertificate(source(junk, pki.server.key))).message, /^--certfile .*junk\.crt: no PEM certificate in it/);
    assert.match(refusal(() => loadCertificate(source(pki.server.cert, junk))).message, /^--keyfile .*junk\.crt: no PEM private key in it/);
    const broken = join(pki.dir, 'broken.crt');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    assert.match(refusal(() => loadCertificate(source(broken, pki.server.key))).message, /^--certfile .*broken\.crt: the certificate cannot be read/);
  });

  it('refuses a key that does not match its certificate, naming both', () => {
    const error = refusal(() => loadCertificate(source(pki.server.cert, pki.otherKey)));
    assert.equal(error.option, '--keyfile');
    assert.equal(error.file, pki.otherKey);
    assert.equal(error.message, `--keyfile ${pki.otherKey}: the key does not match the certificate in --certfile ${pki.server.cert} (CN=portico-server-one,O=Portico Tests)`);
    assert.doesNotMatch(error.message, /\n/);
  });

  it('loads an expired certificate with a warning that names it', () => {
    const { certificate, warnings } = loadCertificate(source(pki.expired.cert, pki.expired.key));
    assert.equal(certificate.notAfter.getUTCFullYear(), 2020);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] as string, /^--certfile .*expired\.crt: the certificate expired on Jan {1,2}2 00:00:00 2020 GMT \([^)]*CN=portico-expired[^)]*\); clients will refuse it$/);
  });

  it('reads --ca-certs, and refuses one that holds no certificate', () => {
    assert.match(loadCaCertificates('--ca-certs', pki.ca.cert).toString(), /BEGIN CERTIFICATE/);
    assert.match(refusal(() => loadCaCertificates('--ca-certs', pki.ca.key)).message, /^--ca-certs .*ca\.key: no PEM certificate in it/);
  });
});

function readText(path: string): string {
  return readFileSync(path, 'latin1');
}
