/**
 * What a TLS connection tells an application about itself, as Apache's
 * mod_ssl names it (SSL_PROTOCOL, SSL_CLIENT_S_DN, ...): read once per
 * connection, when its first request is admitted, and kept for the
 * requests after it. The gateways turn it into variables
 * (gateway-variables.ts, sslVariables).
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { prefacePeer } from './connection-preface.js';
import type { Peer } from './proxy-headers.js';
import { distinguishedName } from './tls-certificates.js';

export interface TlsFacts {
  /** SSL_PROTOCOL: 'TLSv1.2', 'TLSv1.3'. */
  readonly protocol: string;
  /** SSL_CIPHER: OpenSSL's name of the cipher suite. */
  readonly cipher: string;
  /** SSL_TLS_SNI: the host name the client asked for; null when it sent none. */
  readonly serverName: string | null;
  /**
   * SSL_CLIENT_VERIFY: SUCCESS for a client certificate verified against
   * --ca-certs, NONE for no certificate. One that fails verification never
   * gets this far: its connection is refused (tls-context.ts).
   */
  readonly clientVerify: 'NONE' | 'SUCCESS';
  /** SSL_CLIENT_S_DN and SSL_CLIENT_I_DN, RFC 2253; null without a verified client certificate. */
  readonly clientSubject: string | null;
  readonly clientIssuer: string | null;
}

/**
 * `read` once per TLS connection: its answer is worked out on the
 * connection's first request and kept, since it is the same for every
 * request on it. It is kept on the socket itself, under a symbol of its
 * own, and goes with it: a WeakMap would do the same, but each new
 * connection's entry is an ephemeron that V8's collector must trace apart,
 * and a new connection pays for it before its first and often only request.
 */
export function perConnection<T>(read: (socket: TLSSocket) => T): (socket: TLSSocket) => T {
  const slot = Symbol(read.name);
  return (socket) => {
    const held = socket as TLSSocket & Record<symbol, T | undefined>;
    let found = held[slot];
    if (found === undefined) {
      found = read(socket);
      held[slot] = found;
    }
    return found;
  };
}

/**
 * Who a TLS connection is from, with the scheme it gives (https): the
 * PROXY header's source when there was one, else the socket's. A PROXY
 * header comes before the handshake, so it was read off the TCP socket
 * under the TLS one (`_parent`, Node's name for it).
 */
export const tlsPeer = perConnection(function readPeer(socket): Peer {
  const preface = prefacePeer((socket as TLSSocket & { _parent?: Socket })._parent ?? socket);
  if (preface !== null) return { address: preface.address, port: preface.port, tls: true };
  return { address: socket.remoteAddress ?? '', port: socket.remotePort ?? null, tls: true };
});

/** The TLS facts of `socket`: worked out on its first request, then remembered. */
export const tlsFacts = perConnection(readFacts);

function readFacts(socket: TLSSocket): TlsFacts {
  const client = (socket.authorized ? socket.getPeerX509Certificate() : undefined) ?? null;
  const servername = (socket as TLSSocket & { servername?: string | false }).servername;
  return {
    protocol: socket.getProtocol() ?? '',
    cipher: socket.getCipher()?.name ?? '',
    serverName: typeof servername === 'string' && servername !== '' ? servername : null,
    clientVerify: client === null ? 'NONE' : 'SUCCESS',
    clientSubject: client === null ? null : distinguishedName(client.subject),
    clientIssuer: client === null ? null : distinguishedName(client.issuer),
  };
}
