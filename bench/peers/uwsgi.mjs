// uWSGI (uwsgi-core and its python3 plugin) speaking HTTP itself through
// --http-socket: HTTP/1.0 semantics, so every request gets a new connection.
import { existsSync } from 'node:fs';
import { RunningServer, shellLine, startGroup } from './server.mjs';

const UWSGI = '/usr/bin/uwsgi';
const PLUGIN = '/usr/lib/uwsgi/plugins/python3_plugin.so';

export default {
  id: 'uwsgi',
  label: 'uWSGI --http-socket',
  missing: () => (existsSync(UWSGI) && existsSync(PLUGIN) ? null : 'uwsgi-core or uwsgi-plugin-python3 not installed'),
  async start(ctx) {
    const argv = [
      UWSGI, '--plugin', 'python3', '--http-socket', `127.0.0.1:${ctx.port}`,
      '--wsgi-file', ctx.app.file, '--pythonpath', ctx.app.pythonpath, '--chdir', ctx.app.pythonpath,
      '--processes', String(ctx.workers), '--master', '--disable-logging',
      // A backlog that holds 256 connections (gunicorn's and portico's is 2048),
      // and SIGTERM meaning stop rather than uWSGI 2.0's "brutal reload".
      '--listen', '1024', '--die-on-term',
    ];
    const group = await startGroup(ctx, this.id, argv);
    return new RunningServer({ peer: this, port: ctx.port, groups: [group], commands: [shellLine(argv)] });
  },
};
