/** The settings table's entries (settings.ts) for TLS: certificates, client certificates, ciphers. Names follow gunicorn's. */
import { ConfigError } from '../../errors.js';
import { setting } from '../setting.js';
import { nonEmpty } from '../value-parsers.js';

/** One certificate for SNI: a [[certificate]] table, or a --certificate. */
export interface CertificateSpec {
  certfile: string;
  /** null: the key is in certfile, after the certificates. */
  keyfile: string | null;
  /** The host names it answers; null for the names the certificate itself gives (its subjectAltName DNS names). */
  hosts: string[] | null;
}

/** gunicorn's numbers, which are Python's ssl.CERT_NONE, CERT_OPTIONAL and CERT_REQUIRED; the names also do. */
const CERT_REQS = { 0: 0, 1: 1, 2: 2, none: 0, optional: 1, required: 2 } as const;

function certReqs(raw: string, flag: string): 0 | 1 | 2 {
  const value = (CERT_REQS as Record<string, 0 | 1 | 2>)[raw.toLowerCase()];
  if (value === undefined) throw new ConfigError(`${flag}: expected 0 (none), 1 (optional) or 2 (required), got '${raw}'`);
  return value;
}

/** --certificate CERTFILE,KEYFILE[,HOST...]. */
function certificateArgument(raw: string, flag: string): CertificateSpec {
  const [certfile = '', keyfile = '', ...hosts] = raw.split(',').map((part) => part.trim());
  if (certfile === '' || keyfile === '') throw new ConfigError(`${flag}: expected CERTFILE,KEYFILE or CERTFILE,KEYFILE,HOST,..., got '${raw}'`);
  return { certfile, keyfile, hosts: hosts.length === 0 ? null : hosts.filter((host) => host !== '') };
}

export const TLS_SETTINGS = {
  /** PEM certificate, its chain after it: the listeners speak HTTPS. */
  certfile: setting({
    flags: ['--certfile'], metavar: 'FILE', parse: nonEmpty,
    section: 'TLS', scope: 'server', env: 'PORTICO_CERTFILE',
    defaultValue: (): string | null => null, defaultText: 'none: plain HTTP',
    help: 'PEM certificate, followed by its chain if any: every --bind then speaks HTTPS (TLS 1.2 and up). SIGHUP reads it again.',
  }),
  /** PEM private key of --certfile; absent when the certfile holds the key too. */
  keyfile: setting({
    flags: ['--keyfile'], metavar: 'FILE', parse: nonEmpty,
    section: 'TLS', scope: 'server', env: 'PORTICO_KEYFILE',
    defaultValue: (): string | null => null, defaultText: 'the key in --certfile',
    help: 'PEM private key of --certfile, unencrypted. SIGHUP reads it again.',
  }),
  /** More certificates, picked by the name the client asks for (SNI); --certfile is the default. */
  certificates: setting({
    flags: ['--certificate'], metavar: 'CERTFILE,KEYFILE[,HOST...]', multiple: true, parse: certificateArgument,
    section: 'TLS', scope: 'server',
    defaultValue: (): CertificateSpec[] => [], defaultText: 'none',
    help: 'A certificate for the host names given, else for the DNS names it holds, picked by SNI. Repeatable; in the config file, [[certificate]] tables with certfile, keyfile and hosts. Without --certfile, the first is the default.',
  }),
  /** CA certificates, PEM, that client certificates are verified against. */
  caCerts: setting({
    flags: ['--ca-certs'], metavar: 'FILE', parse: nonEmpty,
    section: 'TLS', scope: 'server', env: 'PORTICO_CA_CERTS',
    defaultValue: (): string | null => null, defaultText: 'none',
    help: 'PEM CA certificates that client certificates must chain to (--cert-reqs 1 or 2).',
  }),
  /** Client certificates: 0 none asked for, 1 optional (verified when given), 2 required. */
  certReqs: setting({
    flags: ['--cert-reqs'], metavar: 'INT', parse: certReqs,
    section: 'TLS', scope: 'server', env: 'PORTICO_CERT_REQS',
    defaultValue: (): 0 | 1 | 2 => 0, defaultText: '0',
    help: 'Client certificates: 0, none asked for; 1, optional, but one given must verify against --ca-certs; 2, required. The application sees a verified one as SSL_CLIENT_S_DN.',
  }),
  /** OpenSSL cipher list; Node's default when absent. */
  ciphers: setting({
    flags: ['--ciphers'], metavar: 'LIST', parse: nonEmpty,
    section: 'TLS', scope: 'server', env: 'PORTICO_CIPHERS',
    defaultValue: (): string | null => null, defaultText: "Node's default list",
    help: "OpenSSL cipher list for TLS 1.2, in place of Node's default; TLS 1.3 keeps its default suites unless the list names some (TLS_AES_256_GCM_SHA384...).",
  }),
};
