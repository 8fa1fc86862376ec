/**
 * The listener's part of a server's options. Here rather than in the
 * listener, so that http/ knows nothing of the settings table and config/
 * depends on http/, not both ways.
 */
import { ConfigError } from '../errors.js';
import { compileTrust } from '../http/proxy-headers.js';
import type { ListenerOptions } from '../http/listener.js';
import type { CertificateSource } from '../http/tls-certificates.js';
import type { TlsSettings } from '../http/tls-context.js';
import type { ServerOptions } from './settings.js';

export function listenerOptions(options: ServerOptions, onRefuse?: ListenerOptions['onRefuse']): ListenerOptions {
  if (options.proxyProtocol && options.protocol === 'uwsgi') {
    // A uwsgi packet names the client itself (REMOTE_ADDR): a PROXY header in front of it would say it twice.
    throw new ConfigError('--proxy-protocol and --protocol uwsgi cannot be used together: the uwsgi packet carries the client address itself');
  }
  return {
    keepAliveSeconds: options.keepAlive,
    limits: {
      requestLine: options.limitRequestLine,
      requestFields: options.limitRequestFields,
      requestFieldSize: options.limitRequestFieldSize,
      requestBody: options.limitRequestBody,
    },
    headersTimeoutSeconds: options.headersTimeout,
    bodyTimeoutSeconds: options.bodyTimeout,
    maxConnections: options.maxConnections,
    proxyProtocol: options.proxyProtocol,
    uwsgiAllowFrom: options.protocol === 'uwsgi' ? compileTrust(options.uwsgiAllowFrom) : null,
    trust: compileTrust(options.forwardedAllowIps),
    ...(onRefuse === undefined ? {} : { onRefuse }),
  };
}

/**
 * TLS for the public listeners, or null for plain HTTP: --certfile and
 * --keyfile make the default certificate, --certificate and [[certificate]]
 * tables the others. Options that only mean something over TLS, without
 * TLS, are mistakes, not no-ops.
 */
export function tlsSettings(options: ServerOptions): TlsSettings | null {
  const certificates: CertificateSource[] = [];
  if (options.certfile !== null) {
    certificates.push({ certfile: options.certfile, keyfile: options.keyfile, hosts: null, certOption: '--certfile', keyOption: '--keyfile' });
  } else if (options.keyfile !== null) {
    throw new ConfigError('--keyfile needs --certfile, the certificate the key is for');
  }
  options.certificates.forEach(({ certfile, keyfile, hosts }, index) => {
    certificates.push({ certfile, keyfile, hosts, certOption: `certificate[${index}].certfile`, keyOption: `certificate[${index}].keyfile` });
  });
  if (certificates.length === 0) {
    const stray = options.caCerts !== null ? '--ca-certs' : options.certReqs !== 0 ? '--cert-reqs' : options.ciphers !== null ? '--ciphers' : null;
    if (stray !== null) throw new ConfigError(`${stray} is for TLS: give --certfile and --keyfile too`);
    return null;
  }
  if (options.protocol === 'uwsgi') throw new ConfigError('--certfile and --protocol uwsgi cannot be used together: the uwsgi protocol is spoken to a proxy in front, which ends TLS');
  if (options.certReqs > 0 && options.caCerts === null) {
    throw new ConfigError(`--cert-reqs ${options.certReqs} needs --ca-certs, the CA certificates a client certificate is verified against`);
  }
  return { certificates, caCerts: options.caCerts, certReqs: options.certReqs, ciphers: options.ciphers };
}

/**
 * HTTP/2 for the public listeners (the control listener speaks HTTP/1.1
 * alone). Over TLS, --http-protocols is what ALPN offers; over plain HTTP,
 * h2 needs --http2-cleartext, and a list that leaves a listener nothing to
 * speak is a mistake, not a silent fallback.
 */
export function http2ListenerOptions(options: ServerOptions, tls: boolean): Pick<ListenerOptions, 'httpProtocols' | 'http2' | 'http2Cleartext'> {
  const protocols = options.httpProtocols;
  const cleartext = options.http2Cleartext === 'prior-knowledge';
  if (cleartext && !protocols.includes('h2')) throw new ConfigError(`--http2-cleartext prior-knowledge needs h2 in --http-protocols (it is '${protocols.join(',')}')`);
  if (cleartext && options.protocol === 'uwsgi') throw new ConfigError('--http2-cleartext and --protocol uwsgi cannot be used together: the uwsgi protocol is not HTTP');
  if (!protocols.includes('h1') && !tls && !cleartext) {
    throw new ConfigError('--http-protocols h2 without TLS needs --http2-cleartext prior-knowledge: plain HTTP speaks HTTP/2 only to a proxy that knows it does');
  }
  return {
    httpProtocols: protocols,
    http2: {
      maxConcurrentStreams: options.http2MaxConcurrentStreams,
      maxHeaderListSize: options.http2MaxHeaderListSize,
      initialWindowSize: options.http2InitialWindowSize,
    },
    http2Cleartext: cleartext,
  };
}
