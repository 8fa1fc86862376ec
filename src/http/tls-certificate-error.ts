import { ConfigError } from '../errors.js';

/**
 * A certificate, key or CA file that cannot serve: missing, unreadable, not
 * PEM, or a key that does not match its certificate. A ConfigError, so that
 * at start-up it stops portico with exit status 2 like any bad option; at a
 * reload it is logged and the certificates loaded before stay.
 */
export class TlsCertificateError extends ConfigError {
  override readonly code = 'PORTICO_ERR_TLS_CERTIFICATE' as const;
  /** The option that named the file: '--certfile', 'certificate[1].keyfile'. */
  readonly option: string;
  readonly file: string;

  constructor(option: string, file: string, reason: string) {
    super(`${option} ${file}: ${reason}`);
    this.option = option;
    this.file = file;
  }
}
