// uWSGI (uwsgi-core and its python3 plugin) speaking HTTP itself through
// --http-socket: HTTP/1.0 semantics, so every request gets a new connection.
// nginx.mjs runs the same uWSGI behind nginx, on the uwsgi protocol.
import { existsSync } from 'node:fs';
import { RunningServer, shellLine, startGroup } from './server.mjs';

const UWSGI = '/usr/bin/uwsgi';
const PLUGIN = '/usr/lib/uwsgi/plugins/python3_plugin.so';

export function missingUwsgi() {
  return existsSync(UWSGI) && existsSync(PLUGIN) ? null : 'uwsgi-core or uwsgi-plugin-python3 not installed';
}

/** uWSGI's command line for the app, with `listen` (--http-socket ADDR, or --socket PATH). */
export function uwsgiArgv(ctx, listen) {
  return [
    UWSGI, '--plugin', 'python3', ...listen,
    '--wsgi-file', ctx.app.file, '--pythonpath', ctx.app.pythonpath, '--chdir', ctx.app.pythonpath,
    '--processes', String(ctx.workers), '--master', '--disable-logging',
    // A backlog that holds 256 connections (gunicorn's and portico's is 2048),
    // and SIGTERM meaning stop rather than uWSGI 2.0's "brutal reload".
    '--listen', '1024', '--die-on-term',
  ];
}

export default {
  id: 'uwsgi',
  label: 'uWSGI --http-socket',
  // It answers HTTP/1.1 and closes the connection, without Connection: close (see summary.mjs).
  closesConnections: true,
  missing: missingUwsgi,
  async start(ctx) {
    const argv = uwsgiArgv(ctx, ['--http-socket', `127.0.0.1:${ctx.port}`]);
    const group = await startGroup(ctx, this.id, argv);
    return new RunningServer({ peer: this, port: ctx.port, groups: [group], commands: [shellLine(argv)] });
  },
};
