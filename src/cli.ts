/**
 * The `portico` command: parse the command line, run a Server, map its
 * failures to exit statuses, and turn signals into lifecycle steps.
 */
import { createRequire } from 'node:module';
import { formatHelp } from './config/help-text.js';
import { loadOptions } from './config/load-options.js';
import { AppLoadError, ConfigError, ControlBindError, ExitStatus, InterpreterError, WorkerBootError } from './errors.js';
import { Server } from './server.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export async function main(argv: readonly string[]): Promise<number> {
  let server: Server;
  try {
    const parsed = loadOptions(argv);
    if (parsed.help) {
      process.stdout.write(formatHelp());
      return ExitStatus.ok;
    }
    if (parsed.version) {
      process.stdout.write(`portico ${version}\n`);
      return ExitStatus.ok;
    }
    server = new Server(parsed.options);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`portico: error: ${error.message}\n`);
      return ExitStatus.usage;
    }
    throw error;
  }

  const stopped = server.trapSignals().then((outcome): number => {
    if (outcome.kind === 'stopped') return ExitStatus.ok;
    if (outcome.kind === 'failed') return ExitStatus.failure;
    return outcome.error instanceof AppLoadError ? ExitStatus.appLoadError : ExitStatus.workerBootError;
  });

  try {
    await server.listen();
  } catch (error) {
    if (error instanceof AppLoadError) {
      server.log.error(error.report);
      return ExitStatus.appLoadError;
    }
    if (error instanceof ConfigError) {
      // Known only once listening: a --bind fd://N that is no inherited socket.
      server.log.error(error.message);
      return ExitStatus.usage;
    }
    if (error instanceof InterpreterError) {
      server.log.error(error.message);
      return ExitStatus.usage;
    }
    if (error instanceof ControlBindError) {
      server.log.error(`${error.message}; choose another address with --control-bind`);
      return ExitStatus.failure;
    }
    if (error instanceof WorkerBootError) {
      server.log.error(`${error.message}; check --python`);
      return ExitStatus.workerBootError;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      server.log.error(`cannot listen: ${(error as Error).message}; choose another address with --bind`);
      return ExitStatus.failure;
    }
    throw error;
  }
  return stopped;
}
