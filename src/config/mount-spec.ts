/**
 * What a mount is, before anything is started: from `--mount`, `--cgi`,
 * `--static`, the positional APP, or a `[[mount]]` table of the config file.
 */
import { ConfigError } from '../errors.js';
import type { ServerOptions } from './settings.js';

/** Settings a WSGI mount may set for its own pool, overriding the server-wide ones. */
export const POOL_SETTING_KEYS = [
  'python',
  'chdir',
  'pythonpath',
  'env',
  'workers',
  'threads',
  'timeout',
  'maxRequests',
  'maxRequestsJitter',
  'backlog',
  'preload',
] as const satisfies ReadonlyArray<keyof ServerOptions>;

export type PoolSettings = Pick<ServerOptions, (typeof POOL_SETTING_KEYS)[number]>;

export type MountSpec =
  | { kind: 'wsgi'; path: string; app: string; settings?: Partial<PoolSettings> }
  | { kind: 'cgi'; path: string; root: string }
  | { kind: 'static'; path: string; root: string };

/** 'PATH=VALUE' from --mount, --cgi and --static. */
export function parseMountArgument(raw: string, flag: string): [string, string] {
  const eq = raw.indexOf('=');
  if (eq <= 0 || eq === raw.length - 1) throw new ConfigError(`${flag}: expected PATH=TARGET, as in ${flag} /app=project/wsgi.py; got '${raw}'`);
  const path = raw.slice(0, eq);
  if (!path.startsWith('/')) throw new ConfigError(`${flag}: the mount path '${path}' must start with '/'`);
  return [path, raw.slice(eq + 1)];
}
