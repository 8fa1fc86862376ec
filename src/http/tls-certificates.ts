/**
 * The PEM files behind TLS (--certfile, --keyfile, --ca-certs, each
 * [[certificate]] table), read and checked the same way at start-up and at
 * every reload: a file that is missing or unreadable, a certificate that is
 * not one, a key that does not sign for its certificate, each becomes one
 * TlsCertificateError naming the option and the file. An expired
 * certificate is only a warning: serving it is the operator's choice, and
 * refusing to start would take the site down for a date.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { TlsCertificateError } from './tls-certificate-error.js';

/** One certificate as configured: its files, the options that named them, and the host names it is for. */
export interface CertificateSource {
  certfile: string;
  /** null: the private key is in `certfile` too, after the certificates. */
  keyfile: string | null;
  /** SNI names it answers (`*.example.com` matches one label); null: the names the certificate gives. */
  hosts: readonly string[] | null;
  /** How the user named the files, for messages: '--certfile', 'certificate[1].certfile'. */
  certOption: string;
  keyOption: string;
}

/** A certificate read and checked: ready for tls.createSecureContext(). */
export interface LoadedCertificate {
  readonly source: CertificateSource;
  /** The leaf first, then the chain, as the file has them. */
  readonly cert: Buffer;
  /** PKCS #8 PEM, wherever the key was found. */
  readonly key: Buffer;
  /** The names SNI picks it by, lowercased. */
  readonly hosts: readonly string[];
  /** The leaf's subject, RFC 2253 (CN first), for the log. */
  readonly subject: string;
  readonly notAfter: Date;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads and checks one certificate and its key. Returns the warnings (an
 * expired certificate, or one not yet valid) beside it; throws
 * TlsCertificateError for anything that cannot serve.
 */
export function loadCertificate(source: CertificateSource, now: Date = new Date()): { certificate: LoadedCertificate; warnings: string[] } {
  const certText = readPem(source.certOption, source.certfile);
  const chain = parseChain(source.certOption, source.certfile, certText);
  const leaf = chain[0] as X509Certificate;
  const keyOption = source.keyfile === null ? source.certOption : source.keyOption;
  const keyFile = source.keyfile ?? source.certfile;
  const keyText = source.keyfile === null ? certText : readPem(keyOption, keyFile);
  const key = parseKey(keyOption, keyFile, keyText);
  if (!leaf.checkPrivateKey(key)) {
    throw new TlsCertificateError(keyOption, keyFile, `the key does not match the certificate in ${source.certOption} ${source.certfile} (${distinguishedName(leaf.subject)})`);
  }
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  const warnings: string[] = [];
  if (notAfter.getTime() < now.getTime()) {
    warnings.push(`${source.certOption} ${source.certfile}: the certificate expired on ${leaf.validTo} (${distinguishedName(leaf.subject)}); clients will refuse it`);
  } else if (notBefore.getTime() > now.getTime()) {
    warnings.push(`${source.certOption} ${source.certfile}: the certificate is not valid before ${leaf.validFrom} (${distinguishedName(leaf.subject)}); clients will refuse it`);
  }
  const hosts = (source.hosts ?? namesOf(leaf)).map((host) => host.toLowerCase());
  const certificate = {
    source,
    cert: Buffer.from(chain.map((x509) => x509.toString()).join('')),
    key: Buffer.from(key.export({ type: 'pkcs8', format: 'pem' })),
    hosts,
    subject: distinguishedName(leaf.subject),
    notAfter,
  };
  return { certificate, warnings };
}

/** --ca-certs: the certificates client certificates are verified against. */
export function loadCaCertificates(option: string, file: string): Buffer {
  const text = readPem(option, file);
  parseChain(option, file, text);
  return Buffer.from(text);
}

/**
 * A subject or issuer as mod_ssl gives SSL_CLIENT_S_DN (RFC 2253, the most
 * specific RDN first: CN=client,O=Example,C=US). Node's X509Certificate
 * gives one RDN a line, the least specific first, values already escaped
 * as RFC 2253 wants them.
 */
export function distinguishedName(lines: string): string {
  return lines.split('\n').filter((line) => line !== '').reverse().join(',');
}

function readPem(option: string, file: string): string {
  try {
    return readFileSync(file, 'latin1');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not readable (permission denied)' : code === 'EISDIR' ? 'a directory, not a file' : (error as Error).message;
    throw new TlsCertificateError(option, file, why);
  }
}

function parseChain(option: string, file: string, text: string): X509Certificate[] {
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new TlsCertificateError(option, file, 'no PEM certificate in it (-----BEGIN CERTIFICATE-----)');
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      const which = blocks.length === 1 ? 'the certificate' : `certificate ${index + 1} of ${blocks.length}`;
      throw new TlsCertificateError(option, file, `${which} cannot be read (${(error as Error).message})`);
    }
  });
}

function parseKey(option: string, file: string, text: string): KeyObject {
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) throw new TlsCertificateError(option, file, 'no PEM private key in it (-----BEGIN PRIVATE KEY-----)');
  try {
    return createPrivateKey(text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MISSING_PASSPHRASE' || /ENCRYPTED/.test(text)) {
      throw new TlsCertificateError(option, file, 'the private key is encrypted; give it unencrypted (openssl pkey -in KEY -out KEY.plain)');
    }
    throw new TlsCertificateError(option, file, `the private key cannot be read (${(error as Error).message})`);
  }
}

/** The DNS names of subjectAltName (RFC 6125 §6.4.4: then CN is not looked at), else the CN. */
function namesOf(x509: X509Certificate): string[] {
  const dns = (x509.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice(4));
  if (dns.length > 0) return dns;
  const cn = /^CN=(.*)$/m.exec(x509.subject);
  return cn === null ? [] : [cn[1] as string];
}
