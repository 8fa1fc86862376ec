/**
 * Every setting, declared once: its option flags, how a raw value is parsed
 * and checked, its default and its help. The CLI parser and `--help` are
 * generated from this table, so that a setting cannot exist in one and not
 * the other. Names and defaults follow gunicorn's where gunicorn has one.
 */
import { ConfigError } from '../errors.js';
import { parseMountArgument, type MountSpec } from './mount-spec.js';
import { compileTrust } from '../http/proxy-headers.js';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'critical';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warning', 'error', 'critical'];

/** The resolved settings of one server: what `createServer()` takes. */
export interface ServerOptions {
  /** The WSGI application at '/': `module:callable`, `module`, `module:factory()` or a .py/.wsgi path; '' for none. */
  app: string;
  /** Further mounts: WSGI applications, CGI directories and static directories by URL prefix. */
  mounts: MountSpec[];
  /** Config file to read: portico.toml, or pyproject.toml's [tool.portico]. */
  config: string | null;
  /** Error pages with tracebacks and locals; never in production. */
  debug: boolean;
  /** Restart the workers when the application's Python files change. */
  reload: boolean;
  reloadExtraFiles: string[];
  bind: string[];
  workers: number;
  threads: number;
  backlog: number;
  chdir: string;
  pythonpath: string[];
  env: Record<string, string>;
  python: string;
  accessLogfile: string | null;
  errorLogfile: string;
  logLevel: LogLevel;
  keepAlive: number;
  timeout: number;
  gracefulTimeout: number;
  preload: boolean;
  maxRequests: number;
  maxRequestsJitter: number;
  /** Longest request line in bytes; 0 for no limit (gunicorn's limit_request_line). */
  limitRequestLine: number;
  /** Most header fields in a request (gunicorn's limit_request_fields). */
  limitRequestFields: number;
  /** Longest header field line in bytes; 0 for no limit (gunicorn's limit_request_field_size). */
  limitRequestFieldSize: number;
  /** Largest request body in bytes; 0 for no limit. */
  limitRequestBody: number;
  /** Seconds a client has to send the whole request head. */
  headersTimeout: number;
  /** Longest pause, in seconds, while a request body arrives; 0 for none. */
  bodyTimeout: number;
  /** Open connections per listener past which new ones are closed at once; 0 for no limit. */
  maxConnections: number;
  /** Peers trusted to set X-Forwarded-* and Forwarded: addresses and CIDR ranges, comma-separated, or '*'. */
  forwardedAllowIps: string;
  /** Every connection starts with a HAProxy PROXY protocol v1 or v2 header. */
  proxyProtocol: boolean;
}

type Env = NodeJS.ProcessEnv;

export interface Setting {
  key: keyof ServerOptions | 'help' | 'version';
  /** Short and long flags, e.g. ['-b', '--bind']. */
  flags: readonly string[];
  /** Placeholder in `--help`; absent for a flag that takes no value. */
  metavar?: string;
  /** The option may be given several times; `collect` turns the values, in order, into the setting. */
  multiple?: boolean;
  collect?: (values: unknown[]) => unknown;
  /** Turns one raw value into the setting's value; `flag` names the option for the error. */
  parse?: (raw: string, flag: string) => unknown;
  defaultValue: (env: Env) => unknown;
  /** How the default reads in `--help`. */
  defaultText: string;
  help: string;
}

function integer(min: number): (raw: string, flag: string) => number {
  return (raw, flag) => {
    if (!/^\d+$/.test(raw) || Number(raw) < min) {
      throw new ConfigError(`${flag}: expected a whole number of at least ${min}, got '${raw}'`);
    }
    return Number(raw);
  };
}

function seconds(raw: string, flag: string): number {
  if (!/^\d+(\.\d+)?$/.test(raw)) throw new ConfigError(`${flag}: expected a number of seconds, got '${raw}'`);
  return Number(raw);
}

function positiveSeconds(raw: string, flag: string): number {
  const value = seconds(raw, flag);
  if (value <= 0) throw new ConfigError(`${flag}: expected more than 0 seconds, got '${raw}'`);
  return value;
}

/** Checked when read, so that a typo in a range fails before any worker starts. */
function forwardedAllowIps(raw: string, flag: string): string {
  compileTrust(raw, flag);
  return raw;
}

function nonEmpty(raw: string, flag: string): string {
  if (raw === '') throw new ConfigError(`${flag}: expected a value, got an empty string`);
  return raw;
}

/** HOST:PORT, [IPv6]:PORT or unix:PATH, checked here so a typo fails before any worker starts. */
export function parseBind(raw: string, flag = '--bind'): string {
  if (raw.startsWith('unix:')) {
    if (raw.length === 5) throw new ConfigError(`${flag}: 'unix:' needs a socket path, as in unix:/run/portico.sock`);
    return raw;
  }
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]*):(\d+)$/.exec(raw) ?? /^()(\d+)$/.exec(raw);
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || port > 65535) {
    throw new ConfigError(`${flag}: expected HOST:PORT, [IPv6]:PORT or unix:PATH, got '${raw}'`);
  }
  return raw;
}

function keyValue(raw: string, flag: string): [string, string] {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new ConfigError(`${flag}: expected KEY=VALUE, got '${raw}'`);
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

function logLevel(raw: string, flag: string): LogLevel {
  const level = raw.toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new ConfigError(`${flag}: expected one of ${LOG_LEVELS.join(', ')}, got '${raw}'`);
  return level;
}

function positiveFromEnv(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return integer(1)(raw, `$${name}`);
}

export const SETTINGS: readonly Setting[] = [
  {
    key: 'bind',
    flags: ['-b', '--bind'],
    metavar: 'ADDRESS',
    multiple: true,
    parse: parseBind,
    defaultValue: (env) => [env.PORT ? `0.0.0.0:${integer(1)(env.PORT, '$PORT')}` : '127.0.0.1:8000'],
    defaultText: "127.0.0.1:8000, or 0.0.0.0:$PORT when PORT is set",
    help: 'Address to listen on: HOST:PORT, [IPv6]:PORT or unix:PATH. Repeat to listen on several.',
  },
  {
    key: 'mounts',
    flags: ['--mount'],
    metavar: 'PATH=APP',
    multiple: true,
    parse: (raw, flag) => {
      const [path, app] = parseMountArgument(raw, flag);
      return { kind: 'wsgi', path, app };
    },
    defaultValue: () => [],
    defaultText: 'none',
    help: "Mount a WSGI application at a URL prefix, like mod_wsgi's WSGIScriptAlias: /app=project/wsgi.py or /app=module:callable. Repeatable.",
  },
  {
    key: 'mounts',
    flags: ['--cgi'],
    metavar: 'PATH=DIR',
    multiple: true,
    parse: (raw, flag) => {
      const [path, root] = parseMountArgument(raw, flag);
      return { kind: 'cgi', path, root };
    },
    defaultValue: () => [],
    defaultText: 'none',
    help: "Mount a directory of CGI scripts at a URL prefix, like Apache's ScriptAlias: /cgi-bin/=./cgi-bin. Repeatable.",
  },
  {
    key: 'mounts',
    flags: ['--static'],
    metavar: 'PATH=DIR',
    multiple: true,
    parse: (raw, flag) => {
      const [path, root] = parseMountArgument(raw, flag);
      return { kind: 'static', path, root };
    },
    defaultValue: () => [],
    defaultText: 'none',
    help: "Serve a directory of static files at a URL prefix, like Apache's Alias: /static/=./public. Repeatable.",
  },
  {
    key: 'config',
    flags: ['-c', '--config'],
    metavar: 'FILE',
    parse: nonEmpty,
    defaultValue: () => null,
    defaultText: 'portico.toml or pyproject.toml [tool.portico] in the current directory, if present',
    help: 'Config file with settings and [[mount]] tables.',
  },
  {
    key: 'debug',
    flags: ['--debug'],
    defaultValue: () => false,
    defaultText: 'off',
    help: 'Show an error page with the traceback, source and local variables (secrets included) when an application raises. Development only: never on a public server.',
  },
  {
    key: 'reload',
    flags: ['--reload'],
    defaultValue: () => false,
    defaultText: 'off',
    help: "Restart the workers when the application's Python files change. Development only.",
  },
  {
    key: 'reloadExtraFiles',
    flags: ['--reload-extra-file'],
    metavar: 'FILE',
    multiple: true,
    parse: nonEmpty,
    defaultValue: () => [],
    defaultText: 'none',
    help: 'Also reload when this file changes. Repeatable.',
  },
  {
    key: 'workers',
    flags: ['-w', '--workers'],
    metavar: 'INT',
    parse: integer(1),
    defaultValue: (env) => positiveFromEnv(env, 'WEB_CONCURRENCY', 1),
    defaultText: '$WEB_CONCURRENCY, or 1',
    help: 'Number of Python worker processes.',
  },
  {
    key: 'threads',
    flags: ['--threads'],
    metavar: 'INT',
    parse: integer(1),
    defaultValue: () => 1,
    defaultText: '1',
    help: 'Requests each worker runs at once, on a thread pool (wsgi.multithread is then True).',
  },
  {
    key: 'backlog',
    flags: ['--backlog'],
    metavar: 'INT',
    parse: integer(1),
    defaultValue: () => 2048,
    defaultText: '2048',
    help: 'Requests that may wait for a busy worker; past this the client gets 503.',
  },
  {
    key: 'chdir',
    flags: ['--chdir'],
    metavar: 'DIR',
    parse: nonEmpty,
    defaultValue: () => process.cwd(),
    defaultText: 'the current directory',
    help: 'Directory the workers run in and import the application from.',
  },
  {
    key: 'pythonpath',
    flags: ['--pythonpath'],
    metavar: 'DIRS',
    parse: (raw) => raw.split(',').map((part) => part.trim()).filter((part) => part !== ''),
    defaultValue: () => [],
    defaultText: 'none',
    help: 'Comma-separated directories to put in front of sys.path.',
  },
  {
    key: 'env',
    flags: ['-e', '--env'],
    metavar: 'KEY=VALUE',
    multiple: true,
    parse: keyValue,
    collect: (pairs) => Object.fromEntries(pairs as Array<[string, string]>),
    defaultValue: () => ({}),
    defaultText: 'none',
    help: 'Set an environment variable in the workers. Repeatable.',
  },
  {
    key: 'python',
    flags: ['--python'],
    metavar: 'PATH',
    parse: nonEmpty,
    defaultValue: (env) => (env.VIRTUAL_ENV ? `${env.VIRTUAL_ENV}/bin/python` : 'python3'),
    defaultText: '$VIRTUAL_ENV/bin/python when VIRTUAL_ENV is set, else python3 on PATH',
    help: 'Python interpreter that runs the workers and the CGI spawner.',
  },
  {
    key: 'accessLogfile',
    flags: ['--access-logfile'],
    metavar: 'FILE',
    parse: nonEmpty,
    defaultValue: () => null,
    defaultText: 'none',
    help: "Access log in Apache combined format; '-' for stdout.",
  },
  {
    key: 'errorLogfile',
    flags: ['--error-logfile', '--log-file'],
    metavar: 'FILE',
    parse: nonEmpty,
    defaultValue: () => '-',
    defaultText: '- (stderr)',
    help: "Error log; '-' for stderr.",
  },
  {
    key: 'logLevel',
    flags: ['--log-level'],
    metavar: 'LEVEL',
    parse: logLevel,
    defaultValue: () => 'info',
    defaultText: 'info',
    help: `Error log threshold: ${LOG_LEVELS.join(', ')}.`,
  },
  {
    key: 'keepAlive',
    flags: ['--keep-alive'],
    metavar: 'SECONDS',
    parse: seconds,
    defaultValue: () => 2,
    defaultText: '2',
    help: 'How long an idle keep-alive connection is kept open; 0 closes every connection after its response.',
  },
  {
    key: 'timeout',
    flags: ['-t', '--timeout'],
    metavar: 'SECONDS',
    parse: seconds,
    defaultValue: () => 30,
    defaultText: '30',
    help: 'A request still running after this long gets 504 and its worker is replaced (a traceback of where it was stuck goes to the log). 0 turns it off.',
  },
  {
    key: 'preload',
    flags: ['--preload'],
    defaultValue: () => false,
    defaultText: 'off',
    help: 'Import the application once, in a zygote process, and fork the workers from it: memory is shared copy-on-write and respawns are fast.',
  },
  {
    key: 'gracefulTimeout',
    flags: ['--graceful-timeout'],
    metavar: 'SECONDS',
    parse: seconds,
    defaultValue: () => 30,
    defaultText: '30',
    help: 'On SIGTERM, SIGINT or a reload, how long in-flight requests may take to finish before they are cut.',
  },
  {
    key: 'maxRequests',
    flags: ['--max-requests'],
    metavar: 'INT',
    parse: integer(0),
    defaultValue: () => 0,
    defaultText: '0 (never)',
    help: 'Replace a worker after it has served this many requests; its replacement is ready before it stops.',
  },
  {
    key: 'maxRequestsJitter',
    flags: ['--max-requests-jitter'],
    metavar: 'INT',
    parse: integer(0),
    defaultValue: () => 0,
    defaultText: '0',
    help: 'Add a random 0..INT to each worker\'s --max-requests, so that workers are not all replaced at once.',
  },
  {
    key: 'limitRequestLine',
    flags: ['--limit-request-line'],
    metavar: 'INT',
    parse: integer(0),
    defaultValue: () => 4094,
    defaultText: '4094',
    help: 'Longest request line in bytes; a longer one gets 414. 0 for no limit.',
  },
  {
    key: 'limitRequestFields',
    flags: ['--limit-request-fields'],
    metavar: 'INT',
    parse: integer(0),
    defaultValue: () => 100,
    defaultText: '100',
    help: 'Most header fields in a request; more get 431. At most 32768 (also what 0 means).',
  },
  {
    key: 'limitRequestFieldSize',
    flags: ['--limit-request-field_size', '--limit-request-field-size'],
    metavar: 'INT',
    parse: integer(0),
    defaultValue: () => 8190,
    defaultText: '8190',
    help: 'Longest header field (name, colon, space and value) in bytes; a longer one gets 431. 0 for no limit.',
  },
  {
    key: 'limitRequestBody',
    flags: ['--limit-request-body'],
    metavar: 'BYTES',
    parse: integer(0),
    defaultValue: () => 1024 ** 3,
    defaultText: '1073741824 (1 GiB)',
    help: 'Largest request body; a larger Content-Length gets 413 before any worker sees the request. 0 for no limit.',
  },
  {
    key: 'headersTimeout',
    flags: ['--headers-timeout'],
    metavar: 'SECONDS',
    parse: positiveSeconds,
    defaultValue: () => 10,
    defaultText: '10',
    help: 'Time a client has to send the whole request head; then it gets 408 and the connection is closed (slowloris).',
  },
  {
    key: 'bodyTimeout',
    flags: ['--body-timeout'],
    metavar: 'SECONDS',
    parse: seconds,
    defaultValue: () => 30,
    defaultText: '30',
    help: 'Longest pause while a request body arrives; then 408, or the connection closed if the response has begun. 0 for none.',
  },
  {
    key: 'maxConnections',
    flags: ['--max-connections'],
    metavar: 'INT',
    parse: integer(0),
    defaultValue: () => 0,
    defaultText: '0 (no limit)',
    help: 'Open connections per listening address; past this, new connections are closed at once.',
  },
  {
    key: 'forwardedAllowIps',
    flags: ['--forwarded-allow-ips'],
    metavar: 'ADDRESSES',
    parse: forwardedAllowIps,
    // Set but empty trusts no one, as in gunicorn (os.environ.get with a default) and as --forwarded-allow-ips= does.
    defaultValue: (env) => (env.FORWARDED_ALLOW_IPS !== undefined ? forwardedAllowIps(env.FORWARDED_ALLOW_IPS, '$FORWARDED_ALLOW_IPS') : '127.0.0.1,::1'),
    defaultText: "$FORWARDED_ALLOW_IPS, or '127.0.0.1,::1'",
    help: "Peers whose X-Forwarded-For, -Proto, -Host and Forwarded headers are believed: comma-separated addresses and CIDR ranges, or '*' for all.",
  },
  {
    key: 'proxyProtocol',
    flags: ['--proxy-protocol'],
    defaultValue: () => false,
    defaultText: 'off',
    help: "Every connection starts with a HAProxy PROXY protocol v1 or v2 header, whose source address is then the peer's.",
  },
  {
    key: 'version',
    flags: ['--version'],
    defaultValue: () => false,
    defaultText: '',
    help: 'Print the version and exit.',
  },
  {
    key: 'help',
    flags: ['-h', '--help'],
    defaultValue: () => false,
    defaultText: '',
    help: 'Show this help and exit.',
  },
];

/** Settings with their defaults for this environment; `app` is left empty. */
export function defaultOptions(env: Env = process.env): ServerOptions {
  const options: Record<string, unknown> = { app: '' };
  for (const setting of SETTINGS) {
    if (setting.key !== 'help' && setting.key !== 'version') options[setting.key] = setting.defaultValue(env);
  }
  return options as unknown as ServerOptions;
}
