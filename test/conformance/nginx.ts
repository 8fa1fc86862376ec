/**
 * A real nginx in front of portico, as deployed: one worker, HTTP/1.1 to an
 * upstream with keep-alive connections. Started from a temp config and
 * killed by its own pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { sleep } from '../helpers/http-client.js';

export const NGINX_BIN = '/usr/sbin/nginx';

export interface Nginx {
  port: number;
  stop(): Promise<void>;
  errorLog(): string;
}

/**
 * The upstream's name, which nginx sends as the Host of every request it
 * proxies (proxy_set_header Host defaults to $proxy_host):
 * generate-corpus.py's nginx_environ() expects it.
 */
export const UPSTREAM_NAME = 'portico';

export function hasNginx(): boolean {
  return existsSync(NGINX_BIN);
}

/**
 * What a missing nginx means: scripts/install-system-deps.sh (npm's pretest)
 * installs it, so on CI a missing one fails; elsewhere the suite is reported
 * as skipped, with the reason.
 */
export function missingNginxPolicy(): { skip: string | false; message: string } {
  const message = `nginx is not installed (${NGINX_BIN} is missing): scripts/install-system-deps.sh installs it (Debian package nginx)`;
  return { skip: process.env.CI ? false : `${NGINX_BIN} is missing; run scripts/install-system-deps.sh`, message };
}

/**
 * `via`: how nginx passes requests on: proxy_pass over HTTP/1.1 with
 * keep-alive (the default), or uwsgi_pass with Debian's uwsgi_params, to a
 * portico run with --protocol uwsgi.
 */
export async function startNginx(upstreamPort: number, via: 'proxy' | 'uwsgi' = 'proxy'): Promise<Nginx> {
  const temp = makeTempDir('portico-nginx-');
  const port = await freePort();
  const dir = temp.path;
  const config = `
worker_processes 1;
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream ${UPSTREAM_NAME} { server 127.0.0.1:${upstreamPort}; keepalive 8; }
  server {
    listen 127.0.0.1:${port};
    location / {
${via === 'uwsgi' ? `      client_max_body_size 64m;
      include /etc/nginx/uwsgi_params;
      uwsgi_pass ${UPSTREAM_NAME};` : `      proxy_pass http://${UPSTREAM_NAME};
      proxy_http_version 1.1;
      proxy_set_header Connection "";`}
    }
  }
}
`;
  const configPath = join(dir, 'nginx.conf');
  writeFileSync(configPath, config);
  const child: ChildProcess = spawn(NGINX_BIN, ['-p', dir, '-c', configPath, '-e', `${dir}/error.log`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const pid = child.pid as number;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ready when it accepts a connection.
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    if (await canConnect(port)) break;
    await sleep(50);
  }
  return {
    port,
    errorLog: () => {
      try {
        return readFileSync(join(dir, 'error.log'), 'utf8');
      } catch {
        return '';
      }
    },
    stop: async () => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      await Promise.race([exited, sleep(3000)]);
      temp.remove();
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
