/**
 * One table, mount kind to factory: the one place a new kind of mount
 * (static, CGI, WSGI, and next ASGI) is added. Each factory turns a
 * MountSpec and the server-wide options into a ready-to-start handler.
 */
import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CgiHandler } from './cgi/cgi-handler.js';
import { pickPoolSettings, type MountSpec } from './config/mount-spec.js';
import type { ServerOptions } from './config/settings.js';
import { ConfigError } from './errors.js';
import type { RequestRecord } from './http/request-record.js';
import type { ErrorLog } from './observability/error-log.js';
import { StaticHandler } from './static/static-handler.js';
import { appScriptFile } from './supervisor/code-watcher.js';
import { AppMount } from './app/app-mount.js';
import type { WebSocketSettings } from './asgi/websocket-sessions.js';
import type { MountHandler } from './routing/mount-handler.js';

/** What every factory may use besides its own spec. */
export interface MountEnvironment {
  options: ServerOptions;
  log: ErrorLog;
  /** Serves a CGI script's local redirect anew on this server (RFC 3875 §6.2.2). */
  redirect: (request: RequestRecord, path: string) => void;
}

type MountFactory<K extends MountSpec['kind']> = (spec: Extract<MountSpec, { kind: K }>, env: MountEnvironment) => MountHandler;

export const MOUNT_FACTORIES: { readonly [K in MountSpec['kind']]: MountFactory<K> } = {
  static: (spec, { options, log }) =>
    new StaticHandler({
      root: existingDirectory(spec.root, `--static ${spec.path}`),
      log,
      openFileCache: options.staticCacheSize === 0 ? false : { maxBytes: options.staticCacheSize },
    }),

  cgi: (spec, { options, log, redirect }) =>
    new CgiHandler({
      root: existingDirectory(spec.root, `--cgi ${spec.path}`),
      log,
      timeoutSeconds: options.timeout,
      debug: options.debug,
      python: options.python,
      limitRequestBody: options.limitRequestBody,
      internalRedirect: redirect,
    }),

  app: (spec, { options, log }) => {
    const settings = { ...pickPoolSettings(options), ...spec.settings };
    const chdir = existingDirectory(settings.chdir, '--chdir');
    const appFile = appScriptFile(spec.app, chdir);
    // An APP given as a file may live outside --chdir and --pythonpath: its
    // folder is watched too, for the modules beside it, and the file itself,
    // which as a .wsgi is no .py.
    const directories = [chdir, ...settings.pythonpath.map((path) => resolve(chdir, path))];
    const files = options.reloadExtraFiles.map((file) => resolve(file));
    if (appFile !== null) {
      directories.push(dirname(appFile));
      files.push(appFile);
    }
    return new AppMount(
      { ...settings, chdir, app: spec.app, debug: options.debug, limitRequestBody: options.limitRequestBody, rootPath: options.rootPath, websocket: websocketSettings(options) },
      log,
      { directories, files },
    );
  },
};

function websocketSettings(options: ServerOptions): WebSocketSettings {
  return {
    maxSize: options.wsMaxSize,
    perMessageDeflate: options.wsPerMessageDeflate,
    maxQueue: options.wsMaxQueue,
    pingIntervalMs: options.wsPingInterval * 1000,
    pingTimeoutMs: options.wsPingTimeout * 1000,
    gracefulTimeoutMs: options.gracefulTimeout * 1000,
  };
}

export function createMount(spec: MountSpec, env: MountEnvironment): MountHandler {
  return (MOUNT_FACTORIES[spec.kind] as MountFactory<MountSpec['kind']>)(spec as never, env);
}

/** An existing directory, made absolute; `what` names the option for the error. */
function existingDirectory(path: string, what: string): string {
  const absolute = resolve(path);
  let isDirectory = false;
  try {
    isDirectory = statSync(absolute).isDirectory();
  } catch {
    // missing or unreadable: the same error
  }
  if (!isDirectory) throw new ConfigError(`${what}: '${path}' is not a directory (looked for ${absolute})`);
  return absolute;
}
