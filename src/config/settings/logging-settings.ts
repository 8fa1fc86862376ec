/** The settings table's entries (settings.ts) for the logs, and for development (Logging, Development). */
import { setting } from '../setting.js';
import { LOG_LEVELS, logLevel, nonEmpty, type LogLevel } from '../value-parsers.js';

export const LOGGING_SETTINGS = {
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
