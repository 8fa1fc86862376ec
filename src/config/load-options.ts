/**
 * The server's options from all their sources, later ones winning:
 * defaults, then the PORTICO_* variables, then the config file, then the
 * command line. Mounts add up: the file's first, then the command line's.
 */
import { ConfigError } from '../errors.js';
import { parseCommandLine } from './cli-args.js';
import { findConfigFile, loadConfigFile } from './config-file.js';
import { environmentOptions, settingDefaults } from './setting-defaults.js';
import type { ServerOptions } from './settings.js';

export interface LoadedOptions {
  options: ServerOptions;
  help: boolean;
  version: boolean;
}

/**
 * `portico dev APP`: Django's runserver and Werkzeug's dev server in one.
 * Reload on change, debug pages and an access log on the terminal, on
 * loopback only; any of them can still be overridden.
 */
const DEV_DEFAULTS: Partial<ServerOptions> = {
  reload: true,
  debug: true,
  accessLogfile: '-',
  bind: ['127.0.0.1:8000'],
};

export function loadOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()): LoadedOptions {
  const dev = argv[0] === 'dev';
  const { given, help, version } = parseCommandLine(dev ? argv.slice(1) : argv, env);
  // dev's defaults are defaults: the environment, a config file or the command line still overrides them.
  const defaults = { ...settingDefaults(env), ...(dev ? DEV_DEFAULTS : {}) };
  if (help || version) return { options: { ...defaults, ...given }, help, version };
  const environment = environmentOptions(env);
  const path = given.config === undefined ? findConfigFile(environment.config ?? null, cwd, '$PORTICO_CONFIG') : findConfigFile(given.config, cwd);
  const file = path === null ? null : loadConfigFile(path);
  const options: ServerOptions = {
    ...defaults,
    ...environment,
    ...file?.options,
    ...given,
    mounts: [...(file?.mounts ?? []), ...(given.mounts ?? [])],
    config: path,
  };
  if (options.app === '' && options.mounts.length === 0) {
    throw new ConfigError("missing the application to serve, as in 'portico module:application' (or give --mount, --cgi, --static, or a config file)");
  }
  return { options, help, version };
}
