/**
 * Every setting, declared once: its flags, config key, environment
 * variable, scope, parser, default and help. The command line, the config
 * file, the environment, `--help`, the README's option table,
 * `ServerOptions` and the worker's JSON config are all derived from this
 * table, so that a setting cannot exist in one and not the others. Names
 * and defaults follow gunicorn's where gunicorn has one.
 *
 * To add a setting: one entry here, with a one-line JSDoc (what
 * createServer() callers see), a `section`, a `scope` ('mount' if a
 * [[mount]] may set its own), `worker: true` if the Python worker reads it,
 * and `env: 'PORTICO_<NAME>'` unless it is repeatable. Its config key is
 * its long flag without the dashes.
 */
import { parseBind } from './parse-bind.js';
import { setting, type Env, type ValueOf } from './setting.js';
import {
  commaList,
  forwardedAllowIps,
  INTERFACES,
  integer,
  type Interface,
  keyValue,
  LOG_LEVELS,
  logLevel,
  nonEmpty,
  oneOf,
  onOff,
  parseMountArgument,
  positiveSeconds,
  rootPath,
  seconds,
  workerClass,
  type LogLevel,
} from './value-parsers.js';

export { LOG_LEVELS, type LogLevel } from './value-parsers.js';

function positiveFromEnv(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return integer(1)(raw, `$${name}`);
}

/** Checked by the one bind parser, kept as written: `ServerOptions.bind` is what a user gives. */
function bindText(raw: string, flag: string): string {
  return parseBind(raw, flag).text;
}

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
  /** Addresses to listen on: HOST:PORT, [IPv6]:PORT or unix:PATH. */
  bind: setting({
    flags: ['-b', '--bind'], metavar: 'ADDRESS', multiple: true, parse: bindText,
    section: 'Listening', scope: 'server', defaultEnv: ['PORT'],
    defaultValue: (env): string[] => [env.PORT ? `0.0.0.0:${integer(1)(env.PORT, '$PORT')}` : '127.0.0.1:8000'],
    defaultText: '127.0.0.1:8000, or 0.0.0.0:$PORT when PORT is set',
    help: 'Address to listen on: HOST:PORT, [IPv6]:PORT or unix:PATH. Repeat to listen on several.',
  }),
  /** Seconds an idle keep-alive connection is kept open; 0 closes every connection after its response. */
  keepAlive: setting({
    flags: ['--keep-alive'], metavar: 'SECONDS', parse: seconds,
    section: 'Listening', scope: 'server', env: 'PORTICO_KEEP_ALIVE',
    defaultValue: () => 2, defaultText: '2',
    help: 'How long an idle keep-alive connection is kept open; 0 closes every connection after its response.',
  }),
  /** Open connections per listener past which new ones are closed at once; 0 for no limit. */
  maxConnections: setting({
    flags: ['--max-connections'], metavar: 'INT', parse: integer(0),
    section: 'Listening', scope: 'server', env: 'PORTICO_MAX_CONNECTIONS',
    defaultValue: () => 0, defaultText: '0 (no limit)',
    help: 'Open connections per listening address; past this, new connections are closed at once.',
  }),
  /** Number of Python worker processes. */
  workers: setting({
    flags: ['-w', '--workers'], metavar: 'INT', parse: integer(1),
    section: 'Workers', scope: 'mount', env: 'PORTICO_WORKERS', defaultEnv: ['WEB_CONCURRENCY'],
    defaultValue: (env) => positiveFromEnv(env, 'WEB_CONCURRENCY', 1), defaultText: '$WEB_CONCURRENCY, or 1',
    help: 'Number of Python worker processes.',
  }),
  /** Requests each worker runs at once, on a thread pool. */
  threads: setting({
    flags: ['--threads'], metavar: 'INT', parse: integer(1),
    section: 'Workers', scope: 'mount', worker: true, env: 'PORTICO_THREADS',
    defaultValue: () => 1, defaultText: '1',
    help: 'Requests each worker runs at once, on a thread pool (wsgi.multithread is then True).',
  }),
  /** Requests one ASGI worker runs at once; past it they wait in the pool's queue. */
  workerConnections: setting({
    flags: ['--worker-connections'], metavar: 'INT', parse: integer(1),
    section: 'Workers', scope: 'mount', env: 'PORTICO_WORKER_CONNECTIONS',
    defaultValue: () => 1000, defaultText: '1000',
    help: 'Requests (and WebSockets) one ASGI worker runs at once; past it they wait in the pool\'s queue, and past --backlog they get 503.',
  }),
  /** Requests that may wait for a busy worker; past this the client gets 503. */
  backlog: setting({
    flags: ['--backlog'], metavar: 'INT', parse: integer(1),
    section: 'Workers', scope: 'mount', env: 'PORTICO_BACKLOG',
    defaultValue: () => 2048, defaultText: '2048',
    help: 'Requests that may wait for a busy worker; past this the client gets 503.',
  }),
  /** Seconds a request may run before it gets 504 and its worker is replaced; 0 for no limit. */
  timeout: setting({
    flags: ['-t', '--timeout'], metavar: 'SECONDS', parse: seconds,
    section: 'Workers', scope: 'mount', env: 'PORTICO_TIMEOUT',
    defaultValue: () => 30, defaultText: '30',
    help: 'A request still running after this long gets 504 and its worker is replaced (a traceback of where it was stuck goes to the log). 0 turns it off.',
  }),
  /** Import the application once, in a zygote, and fork the workers from it. */
  preload: setting({
    flags: ['--preload'],
    section: 'Workers', scope: 'mount', env: 'PORTICO_PRELOAD',
    defaultValue: () => false, defaultText: 'off',
    help: 'Import the application once, in a zygote process, and fork the workers from it: memory is shared copy-on-write and respawns are fast.',
  }),
  /** Seconds in-flight requests may take to finish on SIGTERM, SIGINT, a reload or close(). */
  gracefulTimeout: setting({
    flags: ['--graceful-timeout'], metavar: 'SECONDS', parse: seconds,
    section: 'Workers', scope: 'server', env: 'PORTICO_GRACEFUL_TIMEOUT',
    defaultValue: () => 30, defaultText: '30',
    help: 'On SIGTERM, SIGINT or a reload, how long in-flight requests may take to finish before they are cut.',
  }),
  /** Replace a worker after it has served this many requests; 0 for never. It may serve more while its replacement boots. */
  maxRequests: setting({
    flags: ['--max-requests'], metavar: 'INT', parse: integer(0),
    section: 'Workers', scope: 'mount', env: 'PORTICO_MAX_REQUESTS',
    defaultValue: () => 0, defaultText: '0 (never)',
    help: 'Replace a worker after it has served this many requests. Its replacement is ready before it stops, so it may serve more: those that arrive while the replacement boots and no other worker can take.',
  }),
  /** A random 0..N added to each worker's maxRequests. */
  maxRequestsJitter: setting({
    flags: ['--max-requests-jitter'], metavar: 'INT', parse: integer(0),
    section: 'Workers', scope: 'mount', env: 'PORTICO_MAX_REQUESTS_JITTER',
    defaultValue: () => 0, defaultText: '0',
    help: "Add a random 0..INT to each worker's --max-requests, so that workers are not all replaced at once.",
  }),
  /** Longest request line in bytes; 0 for no limit (gunicorn's limit_request_line). */
  limitRequestLine: setting({
    flags: ['--limit-request-line'], metavar: 'INT', parse: integer(0),
    section: 'Request limits', scope: 'server', env: 'PORTICO_LIMIT_REQUEST_LINE',
    defaultValue: () => 4094, defaultText: '4094',
    help: 'Longest request line in bytes; a longer one gets 414. 0 for no limit.',
  }),
  /** Most header fields in a request (gunicorn's limit_request_fields). */
  limitRequestFields: setting({
    flags: ['--limit-request-fields'], metavar: 'INT', parse: integer(0),
    section: 'Request limits', scope: 'server', env: 'PORTICO_LIMIT_REQUEST_FIELDS',
    defaultValue: () => 100, defaultText: '100',
    help: 'Most header fields in a request; more get 431. At most 32768 (also what 0 means).',
  }),
  /** Longest header field line in bytes; 0 for no limit (gunicorn's limit_request_field_size). */
  limitRequestFieldSize: setting({
    flags: ['--limit-request-field_size', '--limit-request-field-size'], metavar: 'INT', parse: integer(0),
    section: 'Request limits', scope: 'server', env: 'PORTICO_LIMIT_REQUEST_FIELD_SIZE',
    defaultValue: () => 8190, defaultText: '8190',
    help: 'Longest header field (name, colon, space and value) in bytes; a longer one gets 431. 0 for no limit.',
  }),
  /** Largest request body in bytes; 0 for no limit. */
  limitRequestBody: setting({
    flags: ['--limit-request-body'], metavar: 'BYTES', parse: integer(0),
    section: 'Request limits', scope: 'server', env: 'PORTICO_LIMIT_REQUEST_BODY',
    defaultValue: () => 1024 ** 3, defaultText: '1073741824 (1 GiB)',
    help: 'Largest request body; a larger Content-Length gets 413 before any worker sees the request. 0 for no limit.',
  }),
  /** Seconds a client has to send the whole request head. */
  headersTimeout: setting({
    flags: ['--headers-timeout'], metavar: 'SECONDS', parse: positiveSeconds,
    section: 'Request limits', scope: 'server', env: 'PORTICO_HEADERS_TIMEOUT',
    defaultValue: () => 10, defaultText: '10',
    help: 'Time a client has to send the whole request head; then it gets 408 and the connection is closed (slowloris).',
  }),
  /** Longest pause, in seconds, while a request body arrives; 0 for none. */
  bodyTimeout: setting({
    flags: ['--body-timeout'], metavar: 'SECONDS', parse: seconds,
    section: 'Request limits', scope: 'server', env: 'PORTICO_BODY_TIMEOUT',
    defaultValue: () => 30, defaultText: '30',
    help: 'Longest pause while a request body arrives; then 408, or the connection closed if the response has begun. 0 for none.',
  }),
  /** Largest WebSocket message in bytes, after permessage-deflate inflates it; a larger one closes the connection with 1009. */
  wsMaxSize: setting({
    flags: ['--ws-max-size'], metavar: 'BYTES', parse: integer(1),
    section: 'WebSockets', scope: 'server', env: 'PORTICO_WS_MAX_SIZE',
    defaultValue: () => 16 * 1024 * 1024, defaultText: '16777216 (16 MiB)',
    help: 'Largest WebSocket message, counted after permessage-deflate inflates it (so a compression bomb is stopped); a larger one closes the connection with 1009.',
  }),
  /** Messages from a client that may wait for the application; past them the front stops reading that socket. */
  wsMaxQueue: setting({
    flags: ['--ws-max-queue'], metavar: 'INT', parse: integer(1),
    section: 'WebSockets', scope: 'server', env: 'PORTICO_WS_MAX_QUEUE',
    defaultValue: () => 32, defaultText: '32',
    help: "Messages from one client that may wait for the application to receive them; past this the front stops reading that client's socket.",
  }),
  /** Seconds between pings to an idle WebSocket client; 0 for none. */
  wsPingInterval: setting({
    flags: ['--ws-ping-interval'], metavar: 'SECONDS', parse: seconds,
    section: 'WebSockets', scope: 'server', env: 'PORTICO_WS_PING_INTERVAL',
    defaultValue: () => 20, defaultText: '20',
    help: 'Seconds between pings the front sends each WebSocket client; 0 sends none.',
  }),
  /** Seconds a WebSocket client has to answer a ping. */
  wsPingTimeout: setting({
    flags: ['--ws-ping-timeout'], metavar: 'SECONDS', parse: seconds,
    section: 'WebSockets', scope: 'server', env: 'PORTICO_WS_PING_TIMEOUT',
    defaultValue: () => 20, defaultText: '20',
    help: 'Seconds a WebSocket client has to answer a ping with a pong; then the connection is closed with 1011.',
  }),
  /** Offer permessage-deflate (RFC 7692) to WebSocket clients. */
  wsPerMessageDeflate: setting({
    flags: ['--ws-per-message-deflate'], metavar: 'BOOL', parse: onOff,
    section: 'WebSockets', scope: 'server', env: 'PORTICO_WS_PER_MESSAGE_DEFLATE',
    defaultValue: () => true, defaultText: 'true',
    help: 'Accept permessage-deflate compression (RFC 7692) from WebSocket clients that offer it: true or false.',
  }),
  /** Peers trusted to set X-Forwarded-* and Forwarded: addresses and CIDR ranges, comma-separated, or '*'. */
  forwardedAllowIps: setting({
    flags: ['--forwarded-allow-ips'], metavar: 'ADDRESSES', parse: forwardedAllowIps,
    section: 'Proxies', scope: 'server', env: 'PORTICO_FORWARDED_ALLOW_IPS', defaultEnv: ['FORWARDED_ALLOW_IPS'],
    // Set but empty trusts no one, as in gunicorn (os.environ.get with a default) and as --forwarded-allow-ips= does.
    defaultValue: (env) => (env.FORWARDED_ALLOW_IPS !== undefined ? forwardedAllowIps(env.FORWARDED_ALLOW_IPS, '$FORWARDED_ALLOW_IPS') : '127.0.0.1,::1'),
    defaultText: "$FORWARDED_ALLOW_IPS, or '127.0.0.1,::1'",
    help: "Peers whose X-Forwarded-For, -Proto, -Host and Forwarded headers are believed: comma-separated addresses and CIDR ranges, or '*' for all.",
  }),
  /** Every connection starts with a HAProxy PROXY protocol v1 or v2 header. */
  proxyProtocol: setting({
    flags: ['--proxy-protocol'],
    section: 'Proxies', scope: 'server', env: 'PORTICO_PROXY_PROTOCOL',
    defaultValue: () => false, defaultText: 'off',
    help: "Every connection starts with a HAProxy PROXY protocol v1 or v2 header, whose source address is then the peer's.",
  }),
  /** Access log in Apache combined format; '-' for stdout, null for none. */
  accessLogfile: setting({
    flags: ['--access-logfile'], metavar: 'FILE', parse: nonEmpty,
    section: 'Logging', scope: 'server', env: 'PORTICO_ACCESS_LOGFILE',
    defaultValue: (): string | null => null, defaultText: 'none',
    help: "Access log in Apache combined format; '-' for stdout.",
  }),
  /** Error log; '-' for stderr. */
  errorLogfile: setting({
    flags: ['--error-logfile', '--log-file'], metavar: 'FILE', parse: nonEmpty,
    section: 'Logging', scope: 'server', env: 'PORTICO_ERROR_LOGFILE',
    defaultValue: () => '-', defaultText: '- (stderr)',
    help: "Error log; '-' for stderr.",
  }),
  /** Error log threshold. */
  logLevel: setting({
    flags: ['--log-level'], metavar: 'LEVEL', parse: logLevel,
    section: 'Logging', scope: 'server', env: 'PORTICO_LOG_LEVEL',
    defaultValue: (): LogLevel => 'info', defaultText: 'info',
    help: `Error log threshold: ${LOG_LEVELS.join(', ')}.`,
  }),
  /** Error pages with tracebacks and locals; never in production. */
  debug: setting({
    flags: ['--debug'],
    section: 'Development', scope: 'server', worker: true, env: 'PORTICO_DEBUG',
    defaultValue: () => false, defaultText: 'off',
    help: 'Show an error page with the traceback, source and local variables (secrets included) when an application raises. Development only: never on a public server.',
  }),
  /** Restart the workers when the application's Python files change. */
  reload: setting({
    flags: ['--reload'],
    section: 'Development', scope: 'server', env: 'PORTICO_RELOAD',
    defaultValue: () => false, defaultText: 'off',
    help: "Restart the workers when the application's Python files change. Development only.",
  }),
  /** More files whose change reloads the workers; giving any turns reload on (gunicorn: it extends --reload). */
  reloadExtraFiles: setting({
    flags: ['--reload-extra-file'], metavar: 'FILE', multiple: true, parse: nonEmpty,
    section: 'Development', scope: 'server',
    defaultValue: (): string[] => [], defaultText: 'none',
    help: 'Also reload when this file changes; implies --reload. Repeatable.',
  }),
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
