/**
 * Where a listener listens, as config has parsed it (config/parse-bind.ts):
 * the listener never reads the text of a --bind itself.
 */
export type Bind = TcpBind | UnixBind | FdBind;

export interface TcpBind extends BindCommon {
  kind: 'tcp';
  /** An IPv4 or IPv6 address or a host name, without brackets; 0.0.0.0 when the text gave none. */
  host: string;
  /** 0 for a port the system picks. */
  port: number;
}

export interface UnixBind extends BindCommon {
  kind: 'unix';
  path: string;
}

/** A listening socket inherited as a file descriptor: systemd socket activation, or a supervisor that bound it. */
export interface FdBind extends BindCommon {
  kind: 'fd';
  fd: number;
}

interface BindCommon {
  /** As written: 127.0.0.1:8000, [::1]:8000, :8000, 8000, unix:/run/portico.sock, fd://3. */
  text: string;
  /**
   * Reserved for TLS of this address alone; always null. TLS is the whole
   * server's (--certfile), so the listener takes it in ListenerOptions.tls.
   */
  tls: null;
  /** Reserved for the protocol spoken on it, as an ALPN id; HTTP/1.1 only for now. */
  protocol: 'http/1.1';
}
