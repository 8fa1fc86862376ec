/** The settings table's entries (settings.ts) for the logs, and for development (Logging, Development). */
import { compileAccessLogFormat, DEFAULT_ACCESS_LOG_FORMAT } from '../../observability/access-log-format.js';
import { LOG_FORMATS, type LogFormat } from '../../observability/log-format.js';
import { setting } from '../setting.js';
import { LOG_LEVELS, logLevel, nonEmpty, oneOf, type LogLevel } from '../value-parsers.js';

export const LOGGING_SETTINGS = {
  /** Access log in Apache combined format; '-' for stdout, null for none. */
  accessLogfile: setting({
    flags: ['--access-logfile'], metavar: 'FILE', parse: nonEmpty,
    section: 'Logging', scope: 'server', env: 'PORTICO_ACCESS_LOGFILE',
    defaultValue: (): string | null => null, defaultText: 'none',
    help: "Access log, in --access-logformat (Apache combined by default); '-' for stdout.",
  }),
  /** The access log's layout in gunicorn's atoms; checked (and later compiled) once, at start-up. */
  accessLogFormat: setting({
    flags: ['--access-logformat', '--access-log-format'], metavar: 'FORMAT',
    parse: (raw, flag) => {
      compileAccessLogFormat(raw, flag);
      return raw;
    },
    section: 'Logging', scope: 'server', env: 'PORTICO_ACCESS_LOG_FORMAT',
    defaultValue: () => DEFAULT_ACCESS_LOG_FORMAT, defaultText: 'Apache combined',
    help: 'Access log layout in gunicorn\'s atoms, e.g. \'%(h)s "%(r)s" %(s)s %(D)s %({X-Request-Id}i)s\' (see Logs). Text only: JSON has fixed keys.',
  }),
  /** 'json': every error-log and access-log line one JSON object, with stable keys. */
  logFormat: setting({
    flags: ['--log-format'], metavar: 'FORMAT', parse: oneOf(...LOG_FORMATS),
    section: 'Logging', scope: 'server', env: 'PORTICO_LOG_FORMAT',
    defaultValue: (): LogFormat => 'text', defaultText: 'text',
    help: 'text (gunicorn\'s layouts) or json (one object per line, stable keys: see Logs), for both logs.',
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
