/**
 * Every setting, declared once: its flags, config key, environment
 * variable, scope, parser, default and help. The command line, the config
 * file, the environment, `--help`, the README's option table,
 * `ServerOptions` and the worker's JSON config are all derived from this
 * table, so that a setting cannot exist in one and not the others. Names
 * and defaults follow gunicorn's where gunicorn has one.
 *
 * The Application entries are here; the others, by section, in settings/.
 * To add a setting: one entry, with a one-line JSDoc (what
 * createServer() callers see), a `section`, a `scope` ('mount' if a
 * [[mount]] may set its own), `worker: true` if the Python worker reads it,
 * and `env: 'PORTICO_<NAME>'` unless it is repeatable. Its config key is
 * its long flag without the dashes.
 */
import { setting, type ValueOf } from './setting.js';
import { CONTROL_SETTINGS } from './settings/control-settings.js';
import { HTTP_SETTINGS } from './settings/http-settings.js';
import { HTTP2_SETTINGS } from './settings/http2-settings.js';
import { LOGGING_SETTINGS } from './settings/logging-settings.js';
import { STATIC_SETTINGS } from './settings/static-settings.js';
import { TLS_SETTINGS } from './settings/tls-settings.js';
import { WORKER_SETTINGS } from './settings/worker-settings.js';
import {
  commaList,
  INTERFACES,
  keyValue,
  nonEmpty,
  oneOf,
  parseMountArgument,
  rootPath,
  workerClass,
  type Interface,
} from './value-parsers.js';

export { LOG_LEVELS, type LogLevel } from './value-parsers.js';


export const SETTINGS = {
  /** The application at '/', WSGI or ASGI: `module:callable`, `module`, `module:factory()` or a .py/.wsgi path; '' for none. */
  app: setting({
    flags: [], metavar: 'APP', parse: (raw) => raw,
    section: 'Application', scope: 'server', worker: true, env: 'PORTICO_APP',
    defaultValue: () => '', defaultText: 'none',
    help: 'The WSGI or ASGI application at /: module:callable, module (callable `application`), module:factory() or a .py/.wsgi file.',
  }),
  /** Further mounts: WSGI and ASGI applications, CGI directories and static directories by URL prefix. */
  mounts: setting({
    flags: ['--mount'], metavar: 'PATH=APP', multiple: true,
    parse: (raw, flag): MountSpec => {
      const [path, app] = parseMountArgument(raw, flag);
      return { kind: 'app', path, app };
    },
    section: 'Application', scope: 'server', inFile: false,
    defaultValue: (): MountSpec[] => [], defaultText: 'none',
    help: "Mount a WSGI or ASGI application at a URL prefix, like mod_wsgi's WSGIScriptAlias: /app=project/wsgi.py or /app=module:callable. Repeatable.",
    also: [
      {
        flags: ['--cgi'], metavar: 'PATH=DIR',
        parse: (raw, flag): MountSpec => {
          const [path, root] = parseMountArgument(raw, flag);
          return { kind: 'cgi', path, root };
        },
        help: "Mount a directory of CGI scripts at a URL prefix, like Apache's ScriptAlias: /cgi-bin/=./cgi-bin. Repeatable.",
      },
      {
        flags: ['--static'], metavar: 'PATH=DIR',
        parse: (raw, flag): MountSpec => {
          const [path, root] = parseMountArgument(raw, flag);
          return { kind: 'static', path, root };
        },
        help: "Serve a directory of static files at a URL prefix, like Apache's Alias: /static/=./public. Repeatable.",
      },
    ],
  }),
  /** The gateway interface of the applications: 'auto' tells WSGI from ASGI by the callable. */
  interface: setting({
    flags: ['--interface'], metavar: 'NAME', parse: oneOf(...INTERFACES),
    section: 'Application', scope: 'mount', worker: true, env: 'PORTICO_INTERFACE',
    defaultValue: (): Interface => 'auto', defaultText: 'auto',
    help: 'auto, wsgi or asgi (ASGI 3, HTTP and lifespan). auto: ASGI when the callable, or its __call__, is a coroutine function.',
    also: [
      {
        flags: ['-k', '--worker-class'], metavar: 'CLASS', parse: workerClass,
        help: "gunicorn's worker class, for the interface it means: sync and gthread are wsgi; asgi, uvicorn.workers.UvicornWorker and uvicorn_worker.UvicornWorker are asgi.",
      },
    ],
  }),
  /** ASGI lifespan events: 'auto' uses them when the application answers them. */
  asgiLifespan: setting({
    flags: ['--asgi-lifespan'], metavar: 'MODE', parse: oneOf('auto', 'on', 'off'),
    section: 'Application', scope: 'mount', worker: true, env: 'PORTICO_ASGI_LIFESPAN',
    defaultValue: (): 'auto' | 'on' | 'off' => 'auto', defaultText: 'auto',
    help: 'ASGI lifespan startup and shutdown in each worker: auto (when the application supports them), on (required), off.',
  }),
  /** The path an ASGI application is mounted at behind a proxy that strips it: put before every mount's own prefix in root_path. */
  rootPath: setting({
    flags: ['--root-path'], metavar: 'PATH', parse: rootPath,
    section: 'Application', scope: 'server', env: 'PORTICO_ROOT_PATH',
    defaultValue: () => '', defaultText: 'none',
    help: "ASGI root_path for an application served below a prefix that a proxy strips, as uvicorn's --root-path; each mount's own prefix follows it.",
  }),
  /** Config file to read: portico.toml, or pyproject.toml's [tool.portico]. */
  config: setting({
    flags: ['-c', '--config'], metavar: 'FILE', parse: nonEmpty,
    section: 'Application', scope: 'server', env: 'PORTICO_CONFIG', inFile: false,
    defaultValue: (): string | null => null, defaultText: 'portico.toml or pyproject.toml [tool.portico] in the current directory, if present',
    help: 'Config file with settings and [[mount]] tables.',
  }),
  /** Directory the workers run in and import the application from. */
  chdir: setting({
    flags: ['--chdir'], metavar: 'DIR', parse: nonEmpty,
    section: 'Application', scope: 'mount', env: 'PORTICO_CHDIR',
    defaultValue: () => process.cwd(), defaultText: 'the current directory',
    help: 'Directory the workers run in and import the application from.',
  }),
  /** Directories put in front of the workers' sys.path. */
  pythonpath: setting({
    flags: ['--pythonpath'], metavar: 'DIRS', parse: commaList,
    section: 'Application', scope: 'mount', worker: true, env: 'PORTICO_PYTHONPATH',
    defaultValue: (): string[] => [], defaultText: 'none',
    help: 'Comma-separated directories to put in front of sys.path.',
  }),
  /** Environment variables set in the workers. */
  env: setting({
    flags: ['-e', '--env'], metavar: 'KEY=VALUE', multiple: true, parse: keyValue,
    collect: (pairs): Record<string, string> => Object.fromEntries(pairs as Array<[string, string]>),
    section: 'Application', scope: 'mount',
    defaultValue: (): Record<string, string> => ({}), defaultText: 'none',
    help: 'Set an environment variable in the workers. Repeatable.',
  }),
  /** Python interpreter that runs the workers and the CGI spawner. */
  python: setting({
    flags: ['--python'], metavar: 'PATH', parse: nonEmpty,
    section: 'Application', scope: 'mount', env: 'PORTICO_PYTHON', defaultEnv: ['VIRTUAL_ENV'],
    defaultValue: (env) => (env.VIRTUAL_ENV ? `${env.VIRTUAL_ENV}/bin/python` : 'python3'),
    defaultText: '$VIRTUAL_ENV/bin/python when VIRTUAL_ENV is set, else python3 on PATH',
    help: 'Python interpreter that runs the workers and the CGI spawner.',
  }),
  ...STATIC_SETTINGS,
  ...HTTP_SETTINGS,
  ...TLS_SETTINGS,
  ...HTTP2_SETTINGS,
  ...CONTROL_SETTINGS,
  ...WORKER_SETTINGS,
  ...LOGGING_SETTINGS,
};

export type SettingKey = keyof typeof SETTINGS;

/** The resolved settings of one server: what `createServer()` takes (any of them), derived from the table. */
export type ServerOptions = { -readonly [K in keyof typeof SETTINGS]: ValueOf<(typeof SETTINGS)[K]> };

/** What a mount is, before anything is started: from --mount, --cgi, --static, APP, or a [[mount]] table. */
export type MountSpec =
  | { kind: 'app'; path: string; app: string; settings?: Partial<PoolSettings> }
  | { kind: 'cgi'; path: string; root: string }
  | { kind: 'static'; path: string; root: string };

type KeysWhere<Entry> = { [K in SettingKey]: (typeof SETTINGS)[K] extends Entry ? K : never }[SettingKey];

/** Settings a [[mount]] may set for its own pool (scope 'mount'). */
export type MountSettingKey = KeysWhere<{ scope: 'mount' }>;
/** Settings the Python worker reads from its JSON config (`worker: true`). */
export type WorkerSettingKey = KeysWhere<{ worker: true }>;
export type PoolSettings = Pick<ServerOptions, MountSettingKey>;

const KEYS = Object.keys(SETTINGS) as SettingKey[];
export const MOUNT_SETTING_KEYS = KEYS.filter((key): key is MountSettingKey => SETTINGS[key].scope === 'mount');
export const WORKER_SETTING_KEYS = KEYS.filter((key): key is WorkerSettingKey => SETTINGS[key].worker);
