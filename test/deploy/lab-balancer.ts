/**
 * A load balancer in the lab's `lb` namespace: Debian's nginx or HAProxy,
 * each started in the foreground from a temporary config that wraps a site
 * of balancer-configs.ts in a throwaway instance's process settings, and
 * killed by its own pid.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { makeTempDir } from '../helpers/temp-dir.js';
import type { LabNetwork } from './lab-network.js';

export const NGINX_BIN = '/usr/sbin/nginx';
export const HAPROXY_BIN = '/usr/sbin/haproxy';

export type BalancerKind = 'nginx' | 'haproxy';

export class LabBalancerError extends Error {
  readonly code = 'LAB_BALANCER';
}

/** Which of the two balancers' binaries are missing. */
export function missingBalancers(): string[] {
  return [NGINX_BIN, HAPROXY_BIN].filter((bin) => !existsSync(bin));
}

function nginxConfig(dir: string, site: string): string {
  const indented = site.trimEnd().replace(/^(?=.)/gm, '    ');
  return `worker_processes 1;
daemon off;
master_process off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;

${indented}
}
`;
}

/** HAProxy's counters for one server, from `show stat` on its stats socket. */
export type ServerStats = Record<string, string>;

function haproxyConfig(dir: string, site: string): string {
  return `global
    maxconn 2048
    stats socket ${dir}/haproxy.sock mode 600 level admin

${site}`;
}

export class LabBalancer {
  readonly kind: BalancerKind;
  #child: ChildProcess;
  #exited: Promise<void>;
  #output = '';
  #temp: { path: string; remove(): void };

  private constructor(kind: BalancerKind, child: ChildProcess, temp: { path: string; remove(): void }) {
    this.kind = kind;
    this.#child = child;
    this.#temp = temp;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const append = (chunk: Buffer): void => {
      this.#output += chunk.toString('utf8');
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
  }

  /** Starts the balancer in the `lb` namespace with `site` (from balancer-configs.ts). */
  static start(lab: LabNetwork, kind: BalancerKind, site: string): LabBalancer {
    const temp = makeTempDir(`portico-deploy-${kind}-`);
    const path = join(temp.path, `${kind}.conf`);
    let command: string[];
    if (kind === 'nginx') {
      writeFileSync(path, nginxConfig(temp.path, site));
      // `include uwsgi_params` is relative to the config's directory, as Debian's /etc/nginx is.
      copyFileSync('/etc/nginx/uwsgi_params', join(temp.path, 'uwsgi_params'));
      command = [NGINX_BIN, '-p', temp.path, '-c', path, '-e', join(temp.path, 'error.log')];
    } else {
      writeFileSync(path, haproxyConfig(temp.path, site));
      // -db: in the foreground, its pid the child's.
      command = [HAPROXY_BIN, '-db', '-f', path];
    }
    const child = lab.spawnIn('lb', command, { stdio: ['ignore', 'pipe', 'pipe'] });
    return new LabBalancer(kind, child, temp);
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** What it printed, with nginx's error log. */
  logs(): string {
    const errorLog = join(this.#temp.path, 'error.log');
    return existsSync(errorLog) ? `${this.#output}\n--- error.log ---\n${readFileSync(errorLog, 'utf8')}` : this.#output;
  }

  /**
   * HAProxy's `show stat`, by server name. A UNIX socket is no part of a
   * network namespace, so the test reaches it from where it runs.
   */
  async serverStats(): Promise<Map<string, ServerStats>> {
    if (this.kind !== 'haproxy') throw new LabBalancerError('only HAProxy has a stats socket');
    const csv = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(join(this.#temp.path, 'haproxy.sock'), () => socket.end('show stat\n'));
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text)).on('error', reject);
    });
    const [header = '', ...rows] = csv.trim().split('\n');
    const names = header.replace(/^# /, '').split(',');
    const stats = new Map<string, ServerStats>();
    for (const row of rows) {
      const values = row.split(',');
      const entry: ServerStats = Object.fromEntries(names.map((name, i) => [name, values[i] ?? '']));
      if (entry.pxname === 'portico') stats.set(entry.svname ?? '', entry);
    }
    return stats;
  }

  /** How often nginx's error log has `pattern`: each is a request that met a failed host. */
  errorLogCount(pattern: RegExp): number {
    const errorLog = join(this.#temp.path, 'error.log');
    if (!existsSync(errorLog)) return 0;
    return readFileSync(errorLog, 'utf8').split('\n').filter((line) => pattern.test(line)).length;
  }

  async stop(): Promise<void> {
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
    await Promise.race([this.#exited, new Promise((r) => setTimeout(r, 3000))]);
    this.#temp.remove();
  }
}
