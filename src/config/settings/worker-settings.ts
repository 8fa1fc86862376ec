/** The settings table's entries (settings.ts) for the workers: how many, of what capacity, and how they are replaced and stopped (Workers). */
import { setting, type Env } from '../setting.js';
import { integer, positiveSeconds, seconds } from '../value-parsers.js';

function positiveFromEnv(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return integer(1)(raw, `$${name}`);
}

export const WORKER_SETTINGS = {
  /** Number of Python worker processes. */
  workers: setting({
    flags: ['-w', '--workers'], metavar: 'INT', parse: integer(1),
    section: 'Workers', scope: 'mount', env: 'PORTICO_WORKERS', defaultEnv: ['WEB_CONCURRENCY'],
    defaultValue: (env) => positiveFromEnv(env, 'WEB_CONCURRENCY', 1), defaultText: '$WEB_CONCURRENCY, or 1',
    help: 'Number of Python worker processes.',
  }),
  /**
   * Front processes sharing the listening sockets, each with its own
   * workers, under a parent (supervisor/front-set.ts): the `portico`
   * command's; a createServer() server is one front whatever this says.
   */
  fronts: setting({
    flags: ['--fronts'], metavar: 'INT', parse: integer(1),
    section: 'Workers', scope: 'server', env: 'PORTICO_FRONTS',
    defaultValue: () => 1, defaultText: '1',
    help: "Front processes (each a Node process with its own -w workers) accepting on the same listening sockets, for a machine whose one front core is the ceiling: a parent binds, supervises and signals them, and serves --control-bind. 1: no parent, as before. See docs/deploy.md, Many cores.",
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
  /** Seconds a SIGTERM or SIGINT leaves the server serving, not ready, before the drain begins. */
  shutdownDelay: setting({
    flags: ['--shutdown-delay'], metavar: 'SECONDS', parse: seconds,
    section: 'Workers', scope: 'server', env: 'PORTICO_SHUTDOWN_DELAY',
    defaultValue: () => 0, defaultText: '0',
    help: 'On SIGTERM or SIGINT, keep serving new requests this long, no longer ready, before the drain begins, so that a load balancer or Kubernetes notices first. A second SIGTERM starts the drain at once.',
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
  /** Replace a worker whose resident memory stays over this many MiB in 3 samples a second apart; 0 for no limit. */
  maxWorkerMemory: setting({
    flags: ['--max-worker-memory'], metavar: 'MIB', parse: integer(0),
    section: 'Workers', scope: 'mount', env: 'PORTICO_MAX_WORKER_MEMORY',
    defaultValue: () => 0, defaultText: '0 (no limit)',
    help: 'Replace a worker whose resident memory (RSS) is over this many MiB in 3 samples a second apart, its replacement ready first, as with --max-requests. Its exit counts as memory.',
  }),
  /** Replace a worker once it has run this many seconds; 0 for never. */
  maxWorkerLifetime: setting({
    flags: ['--max-worker-lifetime'], metavar: 'SECONDS', parse: seconds,
    section: 'Workers', scope: 'mount', env: 'PORTICO_MAX_WORKER_LIFETIME',
    defaultValue: () => 0, defaultText: '0 (never)',
    help: 'Replace a worker once it has run this long (checked every second), its replacement ready first, as with --max-requests. Its exit counts as lifetime.',
  }),
  /** A random 0..N seconds added to each worker's maxWorkerLifetime. */
  maxWorkerLifetimeJitter: setting({
    flags: ['--max-worker-lifetime-jitter'], metavar: 'SECONDS', parse: seconds,
    section: 'Workers', scope: 'mount', env: 'PORTICO_MAX_WORKER_LIFETIME_JITTER',
    defaultValue: () => 0, defaultText: '0',
    help: "Add a random 0..SECONDS to each worker's --max-worker-lifetime, so that workers started together are not all replaced at once.",
  }),
  /** Scale the pool between workers and this many, on queueing and idleness; 0 for a fixed count. */
  workersMax: setting({
    flags: ['--workers-max'], metavar: 'INT', parse: integer(0),
    section: 'Workers', scope: 'mount', env: 'PORTICO_WORKERS_MAX',
    defaultValue: () => 0, defaultText: '0 (a fixed -w)',
    help: "Scale between -w and this many workers, as uWSGI's cheaper mode: one more while a request has waited in the queue over 200 ms, one fewer after --workers-idle-timeout idle. At least -w.",
  }),
  /** Seconds a worker may sit idle before a pool scaled past -w retires it. */
  workersIdleTimeout: setting({
    flags: ['--workers-idle-timeout'], metavar: 'SECONDS', parse: positiveSeconds,
    section: 'Workers', scope: 'mount', env: 'PORTICO_WORKERS_IDLE_TIMEOUT',
    defaultValue: () => 30, defaultText: '30',
    help: 'With --workers-max: a worker idle this long is retired (it finishes what it holds first), one per timeout, down to -w.',
  }),
};
