/**
 * The two lowest layers of a server's options: the table's defaults (some
 * taken from conventional variables: PORT, WEB_CONCURRENCY, VIRTUAL_ENV,
 * FORWARDED_ALLOW_IPS), then the PORTICO_* variables. A config file and
 * the command line go over both (load-options.ts).
 */
import { SETTINGS, type ServerOptions, type SettingKey } from './settings.js';
import type { Env, Setting } from './setting.js';
import { onOff } from './value-parsers.js';

const ENTRIES = Object.entries(SETTINGS) as Array<[SettingKey, Setting]>;

/** Every setting at its default for this environment, PORTICO_* variables not included. */
export function settingDefaults(env: Env = process.env): ServerOptions {
  return Object.fromEntries(ENTRIES.map(([key, setting]) => [key, setting.defaultValue(env)])) as ServerOptions;
}

/** The settings the PORTICO_* variables set, each through its option's parser; an empty variable is unset. */
export function environmentOptions(env: Env = process.env): Partial<ServerOptions> {
  const options: Record<string, unknown> = {};
  for (const [key, setting] of ENTRIES) {
    const raw = setting.env === undefined ? undefined : env[setting.env];
    if (raw === undefined || raw === '') continue;
    const name = `$${setting.env}`;
    options[key] = setting.parse === undefined ? onOff(raw, name) : setting.parse(raw, name);
  }
  return options as Partial<ServerOptions>;
}

/** What createServer() starts from: the defaults, then the PORTICO_* variables. */
export function defaultOptions(env: Env = process.env): ServerOptions {
  return { ...settingDefaults(env), ...environmentOptions(env) };
}
