/**
 * One error hierarchy for the whole server. Every error carries a stable
 * `code` from the table in error-codes.ts; tests and callers match on the
 * code, never on the message text.
 */
import type { ErrorCode } from './error-codes.js';

export type { ErrorCode } from './error-codes.js';

export class PorticoError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A CLI argument, environment variable or config value is not usable. */
export class ConfigError extends PorticoError {
  constructor(message: string) {
    super('PORTICO_ERR_CONFIG', message);
  }
}

/** The worker channel carried bytes that are not a valid frame. */
export class FrameProtocolError extends PorticoError {
  constructor(message: string) {
    super('PORTICO_ERR_FRAME', message);
  }
}

/** The application could not be imported by a worker; the server must halt, not respawn. */
export class AppLoadError extends PorticoError {
  /** The worker's own report: the Python traceback and a hint. */
  readonly report: string;

  constructor(report: string) {
    super('PORTICO_ERR_APP_LOAD', 'the application could not be loaded');
    this.report = report;
  }
}

/** A worker process could not be started at all (interpreter missing, not executable...). */
export class WorkerBootError extends PorticoError {
  constructor(message: string) {
    super('PORTICO_ERR_WORKER_BOOT', message);
  }
}

/**
 * The --python interpreter cannot run portico's runtime: there is no such
 * file, it is not a Python, or its version is older than the runtime needs.
 * Found before any worker starts; a configuration error, not a crash.
 */
export class InterpreterError extends PorticoError {
  constructor(message: string) {
    super('PORTICO_ERR_INTERPRETER', message);
  }
}

/** A --control-bind address could not be listened on: start-up stops, naming it. */
export class ControlBindError extends PorticoError {
  /** The address as given. */
  readonly address: string;

  constructor(address: string, cause: NodeJS.ErrnoException) {
    super('PORTICO_ERR_CONTROL_BIND', `cannot listen on --control-bind ${address}: ${cause.message}`, { cause });
    this.address = address;
  }
}

/** Exit statuses of the `portico` command, as gunicorn numbers them where it has one. */
export const ExitStatus = {
  ok: 0,
  failure: 1,
  usage: 2,
  workerBootError: 3,
  appLoadError: 4,
} as const;
