/**
 * How one raw setting value, from the command line, the config file or the
 * environment, is checked and turned into the setting's value. `flag` names
 * where the value came from (`-w`, `--workers`, `tool.portico.workers`,
 * `$PORTICO_WORKERS`) for the error.
 */
import { ConfigError } from '../errors.js';
import { compileTrust } from '../http/proxy-headers.js';
import { LOG_LEVELS, type LogLevel } from '../observability/error-log.js';

export type Parser<T> = (raw: string, flag: string) => T;

export { LOG_LEVELS, type LogLevel };

export function integer(min: number): Parser<number> {
  return (raw, flag) => {
    if (!/^\d+$/.test(raw) || Number(raw) < min) {
      throw new ConfigError(`${flag}: expected a whole number of at least ${min}, got '${raw}'`);
    }
    return Number(raw);
  };
}

export function seconds(raw: string, flag: string): number {
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new ConfigError(`${flag}: expected a number of seconds, got '${raw}'`);
  return Number(raw);
}

export function positiveSeconds(raw: string, flag: string): number {
  const value = seconds(raw, flag);
  if (value <= 0) throw new ConfigError(`${flag}: expected more than 0 seconds, got '${raw}'`);
  return value;
}

export function nonEmpty(raw: string, flag: string): string {
  if (raw === '') throw new ConfigError(`${flag}: expected a value, got an empty string`);
  return raw;
}

export function commaList(raw: string): string[] {
  return raw.split(',').map((part) => part.trim()).filter((part) => part !== '');
}

export function keyValue(raw: string, flag: string): [string, string] {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new ConfigError(`${flag}: expected KEY=VALUE, got '${raw}'`);
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

export function logLevel(raw: string, flag: string): LogLevel {
  const level = raw.toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new ConfigError(`${flag}: expected one of ${LOG_LEVELS.join(', ')}, got '${raw}'`);
  return level;
}

/** Checked when read, so that a typo in a range fails before any worker starts. */
export function forwardedAllowIps(raw: string, flag: string): string {
  compileTrust(raw, flag);
  return raw;
}

/** One of a fixed set of words, case as given. */
export function oneOf<const T extends string>(...choices: readonly T[]): Parser<T> {
  return (raw, flag) => {
    if (!(choices as readonly string[]).includes(raw)) throw new ConfigError(`${flag}: expected one of ${choices.join(', ')}, got '${raw}'`);
    return raw as T;
  };
}

/**
 * The gateway interface an application speaks: 'auto' asks the worker to
 * tell, from the callable (ASGI when it, or its __call__, is a coroutine
 * function), as uvicorn's --interface auto does.
 */
export type Interface = 'auto' | 'wsgi' | 'asgi';
export const INTERFACES: readonly Interface[] = ['auto', 'wsgi', 'asgi'];

/**
 * gunicorn's -k/--worker-class names, for the interface they mean: a
 * gunicorn command line runs unchanged. Anything else is refused by name
 * rather than guessed at.
 */
const WORKER_CLASSES: Readonly<Record<string, Interface>> = {
  sync: 'wsgi',
  gthread: 'wsgi',
  asgi: 'asgi',
  'uvicorn.workers.UvicornWorker': 'asgi',
  'uvicorn_worker.UvicornWorker': 'asgi',
};

export function workerClass(raw: string, flag: string): Interface {
  const found = WORKER_CLASSES[raw];
  if (found === undefined) {
    throw new ConfigError(`${flag}: portico runs '${Object.keys(WORKER_CLASSES).join("', '")}'; got '${raw}' (use --interface wsgi or asgi)`);
  }
  return found;
}

/** An on/off setting from the environment (a command line says it by giving the flag, a file with true or false). */
export function onOff(raw: string, flag: string): boolean {
  const value = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(`${flag}: expected 1, true, yes or on, or 0, false, no or off, got '${raw}'`);
}

/** --root-path: '' or a path that starts with '/', kept without a trailing '/'. */
export function rootPath(raw: string, flag: string): string {
  if (raw !== '' && !raw.startsWith('/')) throw new ConfigError(`${flag}: expected a path that starts with '/', got '${raw}'`);
  return raw.replace(/\/+$/, '');
}

/** 'PATH=VALUE' from --mount, --cgi and --static. */
export function parseMountArgument(raw: string, flag: string): [string, string] {
  const eq = raw.indexOf('=');
  if (eq <= 0 || eq === raw.length - 1) throw new ConfigError(`${flag}: expected PATH=TARGET, as in ${flag} /app=project/wsgi.py; got '${raw}'`);
  const path = raw.slice(0, eq);
  if (!path.startsWith('/')) throw new ConfigError(`${flag}: the mount path '${path}' must start with '/'`);
  return [path, raw.slice(eq + 1)];
}
