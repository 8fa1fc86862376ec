/**
 * How one raw setting value, from the command line, the config file or the
 * environment, is checked and turned into the setting's value. `flag` names
 * where the value came from (`-w`, `--workers`, `tool.portico.workers`,
 * `$PORTICO_WORKERS`) for the error.
 */
import { ConfigError } from '../errors.js';
import { compileTrust } from '../http/proxy-headers.js';

export type Parser<T> = (raw: string, flag: string) => T;

import { LOG_LEVELS, type LogLevel } from '../observability/error-log.js';

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

/** An on/off setting from the environment (a command line says it by giving the flag, a file with true or false). */
export function onOff(raw: string, flag: string): boolean {
  const value = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(`${flag}: expected 1, true, yes or on, or 0, false, no or off, got '${raw}'`);
}

/** 'PATH=VALUE' from --mount, --cgi and --static. */
export function parseMountArgument(raw: string, flag: string): [string, string] {
  const eq = raw.indexOf('=');
  if (eq <= 0 || eq === raw.length - 1) throw new ConfigError(`${flag}: expected PATH=TARGET, as in ${flag} /app=project/wsgi.py; got '${raw}'`);
  const path = raw.slice(0, eq);
  if (!path.startsWith('/')) throw new ConfigError(`${flag}: the mount path '${path}' must start with '/'`);
  return [path, raw.slice(eq + 1)];
}
