/**
 * The shape of one entry of the settings table (settings.ts): everything
 * the command line, the config file, the environment, `--help`, the README
 * and the worker's JSON config need to know about a setting, in one place.
 */
import type { Parser } from './value-parsers.js';

export type Env = NodeJS.ProcessEnv;

/**
 * Where a setting may take its value: 'server', once for the whole server;
 * 'mount', also per [[mount]] table of the config file (a WSGI mount's own
 * pool).
 */
export type Scope = 'server' | 'mount';

/** The groups of `--help` and of the README's option table, in their order. */
export const SECTIONS = ['Application', 'Listening', 'TLS', 'HTTP/2', 'Workers', 'Request limits', 'WebSockets', 'Proxies', 'Logging', 'Development'] as const;
export type Section = (typeof SECTIONS)[number];

/** A command-line option. A setting has one; --cgi and --static feed `mounts` beside --mount. */
export interface CliOption {
  /** Short and long flags, e.g. ['-b', '--bind']; none for the positional APP. */
  flags: readonly string[];
  /** Placeholder in `--help`; absent for a flag that takes no value. */
  metavar?: string;
  /** One raw value into the setting's value (or one item of it, when `multiple`); absent for an on/off flag. */
  parse?: Parser<unknown>;
  help: string;
}

export interface Setting<V = unknown, S extends Scope = Scope, W extends boolean = boolean> extends CliOption {
  section: Section;
  scope: S;
  /** Sent to the Python worker in its JSON config (python/portico/worker.py, Config.from_json). */
  worker: W;
  /** The variable that sets it from the environment, through `parse`: under a config file and the command line, over the defaults. */
  env?: `PORTICO_${string}`;
  /** Conventional variables the default is taken from (PORT, WEB_CONCURRENCY...). */
  defaultEnv?: readonly string[];
  /** The option may be given several times; `collect` turns the values, in order, into the setting. */
  multiple?: boolean;
  collect?: (values: unknown[]) => V;
  /** false: not a key of the config file (it names the file, or has [[mount]] tables instead). */
  inFile?: false;
  defaultValue: (env: Env) => V;
  /** How the default reads in `--help` and the README. */
  defaultText: string;
  /** More options that add to this setting. */
  also?: readonly CliOption[];
}

/** A table entry, its value type taken from `defaultValue` and its scope kept literal for the key lists. */
export function setting<V, const S extends Scope, const W extends boolean = false>(
  spec: Omit<Setting<V, S, W>, 'worker'> & { worker?: W },
): Setting<V, S, W> {
  return { ...spec, worker: spec.worker ?? (false as W) };
}

/** The value type of a table entry. */
export type ValueOf<E> = E extends Setting<infer V, Scope, boolean> ? V : never;
