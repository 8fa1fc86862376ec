/**
 * TLS for every public listener: the certificates (the first the default,
 * the others picked by SNI), the floor of TLS 1.2 (RFC 8996 deprecates 1.0
 * and 1.1), the cipher list, and client certificates as gunicorn's
 * --cert-reqs asks for them. One context serves every listener, so that a
 * reload reaches them all:
 *
 *   SIGHUP ─▶ reload(): every file read and checked again
 *              ├─ all good ─▶ setSecureContext() on each server, and a new
 *              │              SNI table: new connections get the new
 *              │              certificates, open ones keep theirs
 *              └─ any bad  ─▶ logged, and the certificates loaded before
 *                             serve on: a reload never takes the site down
 *
 * The options are tls.Server's, which https.createServer() takes; the
 * listener hands connections that chose h2 to its HTTP/2 side.
 */
import type { SecureContext, SecureContextOptions, Server as TlsServer, TlsOptions, TLSSocket } from 'node:tls';
import { loadTls } from '../lazy-package.js';
import { ConfigError } from '../errors.js';
import { TlsCertificateError } from './tls-certificate-error.js';
import { loadCaCertificates, loadCertificate, type CertificateSource, type LoadedCertificate } from './tls-certificates.js';

export interface TlsSettings {
  /** At least one; the first is the default, for a client that sends no SNI name or one no certificate is for. */
  certificates: readonly CertificateSource[];
  /** --ca-certs: the CA certificates a client certificate must chain to. */
  caCerts: string | null;
  /** --cert-reqs: 0, no client certificate asked for; 1, optional, but verified when given; 2, required. */
  certReqs: 0 | 1 | 2;
  /** --ciphers, an OpenSSL cipher list; null for Node's default. */
  ciphers: string | null;
}

/** What the context logs: the server's error log. */
export interface TlsLog {
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
}

const MIN_VERSION = 'TLSv1.2';
/** ALPN (RFC 7301): HTTP/1.1 unless the listener offers its own list (--http-protocols). */
const ALPN_PROTOCOLS = ['http/1.1'];

interface Loaded {
  certificates: LoadedCertificate[];
  ca: Buffer | null;
  /** SNI name, lowercased (maybe '*.example.com'), to its certificate's context, in configuration order. */
  byHost: Array<[string, SecureContext]>;
  warnings: string[];
}

export class TlsContext {
  readonly #settings: TlsSettings;
  readonly #log: TlsLog;
  #loaded: Loaded;
  readonly #servers = new Set<TlsServer>();

  private constructor(settings: TlsSettings, log: TlsLog, loaded: Loaded) {
    this.#settings = settings;
    this.#log = log;
    this.#loaded = loaded;
  }

  /**
   * Reads and checks every file. Throws a TlsCertificateError for the first
   * that cannot serve (a ConfigError, as a bad --ciphers is); an expired
   * certificate is logged as a warning.
   */
  static load(settings: TlsSettings, log: TlsLog): TlsContext {
    if (settings.certificates.length === 0) throw new ConfigError('TLS needs a certificate: give --certfile and --keyfile, or [[certificate]] tables');
    const loaded = build(settings);
    for (const warning of loaded.warnings) log.warning(warning);
    const context = new TlsContext(settings, log, loaded);
    log.info(`TLS: ${context.#describe()}`);
    return context;
  }

  /** tls.Server's options: https.createServer() takes them beside the HTTP ones. */
  serverOptions(): TlsOptions {
    return {
      ...this.#contextOptions(this.#default),
      requestCert: this.#settings.certReqs > 0,
      // Checked when the handshake is done (#refusal), so that a refused client is logged with its reason.
      rejectUnauthorized: false,
      // An SNICallback makes Node stop every handshake for a call into
      // JavaScript (its certificate callback) before it can answer the
      // ClientHello; with one certificate every name gets the default
      // context anyway, so only a [[certificate]] list pays for it.
      ...(this.#settings.certificates.length > 1 ? { SNICallback: this.#sniCallback } : {}),
      ALPNProtocols: ALPN_PROTOCOLS,
    };
  }

  /**
   * Puts `server` under this context: reloads reach it, failed handshakes
   * are told to `onRefuse`, and a client without the certificate
   * --cert-reqs asks for is refused before a byte of HTTP is read. Call it
   * once the server has its own 'secureConnection' listener (it has, once
   * created).
   */
  attach(server: TlsServer, onRefuse: (reason: string) => void): void {
    this.#servers.add(server);
    server.once('close', () => this.#servers.delete(server));
    server.on('tlsClientError', (error: Error & { reason?: string; code?: string }) => {
      onRefuse(`TLS handshake failed: ${error.reason ?? error.code ?? error.message}`);
    });
    const http = server.listeners('secureConnection') as Array<(socket: TLSSocket) => void>;
    server.removeAllListeners('secureConnection');
    server.on('secureConnection', (socket: TLSSocket) => {
      const refused = this.#refusal(socket);
      if (refused !== null) {
        onRefuse(refused);
        socket.destroy();
        return;
      }
      for (const listener of http) listener.call(server, socket);
    });
  }

  /**
   * Reads every file again. Whether it took: on any failure the reason is
   * logged and the certificates loaded before stay; connections already
   * open keep theirs either way.
   */
  reload(): boolean {
    let loaded: Loaded;
    try {
      loaded = build(this.#settings);
    } catch (error) {
      // Whatever it was: a reload never takes the site down.
      this.#log.error(`TLS reload failed: ${(error as Error).message}; the certificates loaded before still serve`);
      return false;
    }
    for (const warning of loaded.warnings) this.#log.warning(warning);
    this.#loaded = loaded;
    const options = this.#contextOptions(this.#default);
    for (const server of this.#servers) server.setSecureContext(options);
    this.#log.info(`TLS reloaded: ${this.#describe()}`);
    return true;
  }

  readonly #sniCallback = (servername: string, done: (error: Error | null, context?: SecureContext) => void): void => done(null, this.#contextFor(servername));

  get #default(): LoadedCertificate {
    return this.#loaded.certificates[0] as LoadedCertificate;
  }

  /** The context for an SNI name: an exact name first, then a wildcard for its parent; undefined for the default. */
  #contextFor(servername: string): SecureContext | undefined {
    const name = servername.toLowerCase();
    const parent = `*${name.slice(name.indexOf('.'))}`;
    const byHost = this.#loaded.byHost;
    return (byHost.find(([host]) => host === name) ?? (name.includes('.') ? byHost.find(([host]) => host === parent) : undefined))?.[1];
  }

  #contextOptions(certificate: LoadedCertificate): SecureContextOptions {
    return contextOptions(this.#settings, this.#loaded.ca, certificate);
  }

  /** Why the handshake just done may not carry requests (--cert-reqs), or null. */
  #refusal(socket: TLSSocket): string | null {
    const certReqs = this.#settings.certReqs;
    if (certReqs === 0 || socket.authorized) return null;
    if (socket.getPeerX509Certificate() === undefined) {
      return certReqs === 2 ? 'no client certificate, and --cert-reqs 2 requires one' : null;
    }
    return `client certificate not verified against --ca-certs (${String(socket.authorizationError)})`;
  }

  #describe(): string {
    const certificates = this.#loaded.certificates.map(
      (certificate, index) =>
        `${certificate.subject} for ${certificate.hosts.join(', ') || 'no host name'}${index === 0 ? ' (default)' : ''}, until ${certificate.notAfter.toISOString().slice(0, 10)}`,
    );
    const clients = ['no client certificates', 'client certificates optional', 'client certificates required'][this.#settings.certReqs];
    return `${certificates.join('; ')}; TLS 1.2 and up; ${clients}`;
  }
}

function contextOptions(settings: TlsSettings, ca: Buffer | null, certificate: LoadedCertificate): SecureContextOptions {
  return {
    cert: certificate.cert,
    key: certificate.key,
    minVersion: MIN_VERSION,
    ...(ca === null ? {} : { ca }),
    ...(settings.ciphers === null ? {} : { ciphers: withTls13Suites(settings.ciphers) }),
  };
}

/**
 * Node sets the TLS 1.3 suites from the TLS_ names of the same list, so a
 * list of TLS 1.2 ciphers alone would turn TLS 1.3 off. As Python's
 * set_ciphers() (gunicorn's --ciphers), --ciphers chooses among TLS 1.2
 * ciphers, and the default TLS 1.3 suites stay unless the list names some.
 */
function withTls13Suites(ciphers: string): string {
  const names = ciphers.split(':');
  if (names.some((name) => name.startsWith('TLS_'))) return ciphers;
  return [...loadTls().DEFAULT_CIPHERS.split(':').filter((name) => name.startsWith('TLS_')), ...names].join(':');
}

/** Every file read and checked, and a secure context for each certificate; throws at the first that cannot serve. */
function build(settings: TlsSettings): Loaded {
  const warnings: string[] = [];
  const certificates = settings.certificates.map((source) => {
    const loaded = loadCertificate(source);
    warnings.push(...loaded.warnings);
    return loaded.certificate;
  });
  const ca = settings.caCerts === null ? null : loadCaCertificates('--ca-certs', settings.caCerts);
  const byHost: Array<[string, SecureContext]> = [];
  for (const certificate of certificates) {
    let context: SecureContext;
    try {
      context = loadTls().createSecureContext(contextOptions(settings, ca, certificate));
    } catch (error) {
      // The files were checked one by one: what is left to fail here is the cipher list, or OpenSSL's view of the pair.
      if (settings.ciphers !== null && /cipher/i.test((error as Error).message)) throw new ConfigError(`--ciphers '${settings.ciphers}': ${(error as Error).message}`);
      throw new TlsCertificateError(certificate.source.certOption, certificate.source.certfile, `OpenSSL refuses it (${(error as Error).message})`);
    }
    for (const host of certificate.hosts) byHost.push([host, context]);
  }
  return { certificates, ca, byHost, warnings };
}
