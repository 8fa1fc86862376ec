/**
 * Certificates made at test time with openssl, in a temporary directory
 * (none is ever committed): a CA, server certificates signed by it for
 * localhost and 127.0.0.1, a client certificate, certificates for SNI
 * names, and the broken cases (an expired certificate, a key that matches
 * nothing). EC P-256 keys: quick to make.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from './temp-dir.js';

export interface KeyPair {
  cert: string;
  key: string;
  /** The subject as mod_ssl's SSL_CLIENT_S_DN gives it (RFC 2253). */
  dn: string;
}

export interface TestPki {
  dir: string;
  ca: KeyPair;
  /** CN=portico-server-one for localhost and 127.0.0.1; `chain` is it followed by the CA. */
  server: KeyPair & { chain: string };
  /** CN=portico-server-two, for the same names: what a reload swaps in. */
  second: KeyPair;
  /** CN=portico-client, for client authentication. */
  client: KeyPair;
  /** A client certificate from a CA the server does not know. */
  stranger: KeyPair;
  /** CN=alpha.test and CN=beta.test (subjectAltName DNS), for SNI. */
  alpha: KeyPair;
  beta: KeyPair;
  /** Valid in 2020 only. */
  expired: KeyPair;
  /** A key no certificate here is for. */
  otherKey: string;
  remove(): void;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** Makes every certificate; takes about a second. */
export function makeTestPki(): TestPki {
  const temp = makeTempDir('portico-pki-');
  const dir = temp.path;
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const path = (name: string): string => join(dir, name);

  openssl('req', '-x509', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/O=Portico Tests/CN=Portico Test CA');
  openssl('req', '-x509', ...EC_KEY, '-keyout', 'other-ca.key', '-out', 'other-ca.crt', '-days', '2', '-subj', '/O=Elsewhere/CN=Other CA');
  writeFileSync(path('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(path('client.ext'), 'extendedKeyUsage=clientAuth\n');

  const issue = (name: string, cn: string, ext: string, ca = 'ca'): KeyPair => {
    openssl('req', '-new', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/O=Portico Tests/CN=${cn}`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', ext);
    return { cert: path(`${name}.crt`), key: path(`${name}.key`), dn: `CN=${cn},O=Portico Tests` };
  };
  const server = issue('server', 'portico-server-one', 'server.ext');
  writeFileSync(path('server-chain.crt'), readFileSync(server.cert, 'latin1') + readFileSync(path('ca.crt'), 'latin1'));
  const second = issue('second', 'portico-server-two', 'server.ext');
  const client = issue('client', 'portico-client', 'client.ext');
  const stranger = issue('stranger', 'portico-stranger', 'client.ext', 'other-ca');
  writeFileSync(path('alpha.ext'), 'subjectAltName=DNS:alpha.test\n');
  writeFileSync(path('beta.ext'), 'subjectAltName=DNS:beta.test,DNS:*.beta.test\n');
  const alpha = issue('alpha', 'alpha.test', 'alpha.ext');
  const beta = issue('beta', 'beta.test', 'beta.ext');
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', 'other.key');

  // `openssl x509` cannot backdate; `openssl ca` takes explicit dates.
  writeFileSync(path('index.txt'), '');
  writeFileSync(path('serial'), '1000\n');
  writeFileSync(
    path('ca.cnf'),
    '[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\nserial = serial\nnew_certs_dir = .\ndefault_md = sha256\npolicy = any\nunique_subject = no\n[any]\ncommonName = supplied\norganizationName = optional\n',
  );
  openssl('req', '-new', ...EC_KEY, '-keyout', 'expired.key', '-out', 'expired.csr', '-subj', '/O=Portico Tests/CN=portico-expired');
  openssl('ca', '-batch', '-config', 'ca.cnf', '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', 'expired.csr', '-out', 'expired.crt', '-notext', '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-extfile', 'server.ext');

  return {
    dir,
    ca: { cert: path('ca.crt'), key: path('ca.key'), dn: 'CN=Portico Test CA,O=Portico Tests' },
    server: { ...server, chain: path('server-chain.crt') },
    second,
    client,
    stranger,
    alpha,
    beta,
    expired: { cert: path('expired.crt'), key: path('expired.key'), dn: 'CN=portico-expired,O=Portico Tests' },
    otherKey: path('other.key'),
    remove: temp.remove,
  };
}
