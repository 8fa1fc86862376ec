/**
 * The CGI mount's errors. Each carries the HTTP status the front answers
 * with, so the handler turns any of them into a response in one place; the
 * `code` is API, as everywhere in portico (src/errors.ts).
 */
import { PorticoError, type ErrorCode } from '../errors.js';

export class CgiError extends PorticoError {
  /** The status the server answers with when no response has been sent yet. */
  readonly status: number;

  constructor(code: ErrorCode, status: number, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.status = status;
  }
}

/** The path names no script in the CGI directory. */
export class CgiScriptNotFoundError extends CgiError {
  constructor(message: string) {
    super('PORTICO_ERR_CGI_NOT_FOUND', 404, message);
  }
}

/** The path names something that may not run: a directory, a dotfile, a non-executable file, a symlink out of the root. */
export class CgiScriptForbiddenError extends CgiError {
  constructor(message: string) {
    super('PORTICO_ERR_CGI_FORBIDDEN', 403, message);
  }
}

/** The path is malformed for a CGI directory: dot segments, encoded dots or slashes, backslashes, NUL. */
export class CgiBadPathError extends CgiError {
  constructor(message: string) {
    super('PORTICO_ERR_CGI_BAD_PATH', 400, message);
  }
}

/**
 * A request body of undeclared length (chunked) grew past
 * --limit-request-body while it was spooled: no script was started. The
 * code is the listener's for a declared length over the limit.
 */
export class CgiBodyTooLargeError extends CgiError {
  constructor(received: number, limit: number) {
    super('PORTICO_ERR_BODY_TOO_LARGE', 413, `request body of ${received} bytes so far is over --limit-request-body ${limit}`);
  }
}

/** The script's output does not start with a valid header block (RFC 3875 §6). */
export class CgiBadHeaderError extends CgiError {
  constructor(message: string) {
    super('PORTICO_ERR_CGI_BAD_HEADER', 502, message);
  }
}

/** The script ended its output (or exited) before the blank line that ends the header block. */
export class CgiNoHeaderError extends CgiError {
  constructor(message: string) {
    super('PORTICO_ERR_CGI_NO_HEADER', 502, message);
  }
}

/** The script ran longer than the mount's timeout; its process group was killed. */
export class CgiTimeoutError extends CgiError {
  constructor(seconds: number) {
    super('PORTICO_ERR_CGI_TIMEOUT', 504, `the script ran longer than ${seconds} s`);
  }
}

/** The script could not be started (bad interpreter line, vanished file...). */
export class CgiSpawnError extends CgiError {
  constructor(message: string, cause?: unknown) {
    super('PORTICO_ERR_CGI_SPAWN', 500, message, { cause });
  }
}

/** The script asked for a local redirect (RFC 3875 §6.2.2) that the server cannot follow. */
export class CgiRedirectError extends CgiError {
  constructor(message: string) {
    super('PORTICO_ERR_CGI_REDIRECT', 500, message);
  }
}
