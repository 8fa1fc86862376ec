/**
 * The `portico` command: parse the command line, run a Server, map its
 * failures to exit statuses, and turn signals into lifecycle steps.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { parseCommandLine } from './config/cli-args.js';
import { findConfigFile, loadConfigFile } from './config/config-file.js';
import { formatHelp } from './config/help-text.js';
import { loadOptions } from './config/load-options.js';
import { environmentOptions, settingDefaults } from './config/setting-defaults.js';
import { AppLoadError, ConfigError, ControlBindError, ExitStatus, InterpreterError, WorkerBootError } from './errors.js';
import type { ServerOptions } from './config/settings.js';
import { Server, type FrontRole } from './server.js';
import type { SignalSource } from './supervisor/arbiter.js';
import { FrontSet } from './supervisor/front-set.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

export async function main(argv: readonly string[]): Promise<number> {
  let options: ServerOptions;
  try {
    const parsed = loadOptions(argv);
    if (parsed.help) {
      process.stdout.write(formatHelp());
      return ExitStatus.ok;
    }
    if (parsed.version) {
      process.stdout.write(await formatVersion(argv));
      return ExitStatus.ok;
    }
    options = parsed.options;
  } catch (error) {
    if (error instanceof ConfigError) return usageError(error);
    throw error;
  }
  // --fronts 1 is the server itself, with no parent process.
  if (options.fronts > 1) return new FrontSet(options).run();
  return serve(options);
}

/**
 * Runs one server to its end: what `portico` does, and what each front of
 * --fronts N does under its parent (`asFront`, its signals the parent's
 * orders). Resolves the exit status.
 */
export async function serve(
  options: ServerOptions,
  asFront?: FrontRole & { signals: SignalSource; started: (server: Server) => void },
): Promise<number> {
  let server: Server;
  try {
    server = new Server(options, asFront ?? null);
  } catch (error) {
    if (error instanceof ConfigError) return usageError(error);
    throw error;
  }
  asFront?.started(server);

  const stopped = server.trapSignals(asFront?.signals).then((outcome): number => {
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

function usageError(error: ConfigError): number {
  process.stderr.write(`portico: error: ${error.message}\n`);
  return ExitStatus.usage;
}

/**
 * `--version`: portico's version, Node's, and the Python interpreter a serve
 * with the same arguments would run with its version, so that a bug report
 * carries all three. The interpreter is found as a serve finds it: the
 * command line, the config file (and any [[mount]] with its own), then
 * PORTICO_PYTHON, VIRTUAL_ENV, python3 on PATH.
 */
async function formatVersion(argv: readonly string[]): Promise<string> {
  const lines = [`portico ${version}`, `Node.js ${process.version} (${process.execPath})`];
  for (const [python, where] of interpretersFor(argv)) lines.push(`${await describeInterpreter(python)}${where}`);
  return lines.join('\n') + '\n';
}

/** Each interpreter and what uses it: '' for the server's own, ', for the mount /api' for a mount's. */
function interpretersFor(argv: readonly string[]): Map<string, string> {
  const { given } = parseCommandLine(argv[0] === 'dev' ? argv.slice(1) : argv);
  const environment = environmentOptions();
  const found = new Map<string, string>();
  let file: ReturnType<typeof loadConfigFile> | null = null;
  try {
    const path = given.config === undefined ? findConfigFile(environment.config ?? null, process.cwd(), '$PORTICO_CONFIG') : findConfigFile(given.config, process.cwd());
    file = path === null ? null : loadConfigFile(path);
  } catch (error) {
    // --version answers even beside a broken config file; serving would say what is wrong with it.
    if (!(error instanceof ConfigError)) throw error;
  }
  found.set(given.python ?? file?.options.python ?? environment.python ?? settingDefaults().python, '');
  for (const mount of file?.mounts ?? []) {
    const python = mount.kind === 'app' ? mount.settings?.python : undefined;
    if (python !== undefined && !found.has(python)) found.set(python, `, for the mount ${mount.path}`);
  }
  return found;
}

/** Asks the interpreter for its version and where it is, in syntax any Python parses. */
const WHO_ARE_YOU = 'import sys, platform; sys.stdout.write(platform.python_version() + " " + sys.executable + "\\n")';

async function describeInterpreter(python: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(python, ['-c', WHO_ARE_YOU], { timeout: 15_000, encoding: 'utf8' });
    const answer = /^(\d+\.\d+\.\d+\S*) (.+)$/.exec(stdout.trim());
    if (answer === null) return `Python: none (${python} does not answer as a Python; set --python)`;
    const [, found, path] = answer;
    return `Python ${found} (${path === python ? path : `${python} is ${path}`})`;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'is not found' : code === 'EACCES' ? 'is not executable' : 'does not answer as a Python';
    return `Python: none (${python} ${why}; set --python)`;
  }
}
