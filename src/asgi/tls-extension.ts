/**
 * The ASGI TLS extension of a connection (asgiref's "TLS extension":
 * scope["extensions"]["tls"]): the TLS version and cipher suite as their
 * numbers, the server's certificate and the client's chain as PEM, the
 * client certificate's subject as RFC 4514 gives it. Worked out on the
 * connection's first ASGI request and kept for the rest; WSGI and CGI get
 * mod_ssl's variables instead (http/tls-facts.ts).
 *
 * client_cert_error is always None here: a client certificate that fails
 * verification never gets a request through (http/tls-context.ts refuses
 * its connection), and with none there is nothing to report.
 */
import { X509Certificate } from 'node:crypto';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import { distinguishedName } from '../http/tls-certificates.js';
import { perConnection } from '../http/tls-facts.js';
import type { TlsExtension } from '../ipc/request-head.js';

/** RFC 8446 §4.2.1 and RFC 5246 §A.1: the legacy_version numbers. TLS 1.2 is the least portico accepts. */
const TLS_VERSIONS: Readonly<Record<string, number>> = { 'TLSv1.2': 0x0303, 'TLSv1.3': 0x0304 };

/**
 * IANA "TLS Cipher Suites" numbers of the suites that Node's default
 * cipher list negotiates (RFC 8446 §B.4, RFC 5288, RFC 5289, RFC 7905), by
 * the standard name getCipher() gives. A suite outside it (a --ciphers
 * list may allow one) is reported as unknown, None, as the spec allows.
 */
const CIPHER_SUITES: Readonly<Record<string, number>> = {
  TLS_AES_128_GCM_SHA256: 0x1301,
  TLS_AES_256_GCM_SHA384: 0x1302,
  TLS_CHACHA20_POLY1305_SHA256: 0x1303,
  TLS_AES_128_CCM_SHA256: 0x1304,
  TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: 0x009e,
  TLS_DHE_RSA_WITH_AES_256_GCM_SHA384: 0x009f,
  TLS_DHE_RSA_WITH_AES_128_CBC_SHA256: 0x0067,
  TLS_DHE_RSA_WITH_AES_256_CBC_SHA256: 0x006b,
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 0xc023,
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384: 0xc024,
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 0xc027,
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384: 0xc028,
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 0xc02b,
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 0xc02c,
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 0xc02f,
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 0xc030,
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 0xcca8,
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 0xcca9,
  TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 0xccaa,
};

/** The extension of the TLS connection `socket` (the connection's own socket, for HTTP/2 too). */
export const tlsExtension = perConnection(readExtension);

function readExtension(socket: TLSSocket): TlsExtension {
  const cipher = socket.getCipher();
  const chain = socket.authorized ? clientChain(socket.getPeerCertificate(true)) : [];
  return {
    tlsVersion: TLS_VERSIONS[socket.getProtocol() ?? ''] ?? null,
    cipherSuite: CIPHER_SUITES[cipher?.standardName ?? ''] ?? null,
    serverCert: socket.getX509Certificate()?.toString() ?? null,
    clientCertChain: chain.map((certificate) => certificate.toString()),
    clientCertName: chain.length === 0 ? null : distinguishedName((chain[0] as X509Certificate).subject),
  };
}

/** The client's certificate and the issuers it was verified through, the client's own first. */
function clientChain(peer: DetailedPeerCertificate): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let certificate: DetailedPeerCertificate | undefined = peer;
  while (certificate?.raw !== undefined && chain.length < 10) {
    chain.push(new X509Certificate(certificate.raw));
    // A self-signed root is its own issuer (Node's detailed chain says so by pointing back at itself).
    if (certificate.issuerCertificate === certificate) break;
    certificate = certificate.issuerCertificate;
  }
  return chain;
}
