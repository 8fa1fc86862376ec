/**
 * The nginx and HAProxy configurations of docs/deploy.md, as the deployment
 * test runs them: the test renders them with the lab's addresses, and
 * deploy-docs.test.ts requires the docs' copies to be these, rendered with
 * the docs' addresses (DOC_CLUSTER). Change them here, then paste what that
 * test prints into docs/deploy.md.
 *
 * Only the parts a site writes are here: nginx's `upstream` and `server`
 * blocks (a file in /etc/nginx/conf.d/, inside Debian's `http` block), and
 * HAProxy's `defaults`, `frontend` and `backend` (after Debian's `global`).
 * The test wraps each in the process settings of a throwaway instance.
 */

export interface ClusterLayout {
  /** Where the load balancer listens: nginx's `listen` and HAProxy's `bind` take it as it is. */
  listen: string;
  hosts: Array<{ name: string; address: string }>;
  /** Every host's public port and control port (--control-bind). */
  appPort: number;
  controlPort: number;
}

/** What the docs show; the balancer is 10.0.0.2. */
export const DOC_BALANCER = '10.0.0.2';
export const DOC_CLUSTER: ClusterLayout = {
  listen: '80',
  hosts: [
    { name: 'app1', address: '10.0.0.11' },
    { name: 'app2', address: '10.0.0.12' },
    { name: 'app3', address: '10.0.0.13' },
  ],
  appPort: 8000,
  controlPort: 9000,
};

/**
 * Health-check timing, shared by the HAProxy config and the portico flags
 * that go with it: HAProxy takes a host out after FALL failed checks INTER
 * apart, so --shutdown-delay must outlast FALL × INTER plus a check's own
 * timeout, and a restarted host is back after RISE good checks.
 */
export const CHECK_INTER_MS = 1000;
export const CHECK_FALL = 2;
export const CHECK_RISE = 1;
export const SHUTDOWN_DELAY_S = 3;
/** nginx's passive check: a host that fails once is skipped for this long. */
export const FAIL_TIMEOUT_S = 2;
/** Longer than either balancer keeps an idle connection to a host, so the balancer closes it first. */
export const HOST_KEEP_ALIVE_S = 75;

export function nginxSite(layout: ClusterLayout): string {
  const servers = layout.hosts
    .map((h) => `    server ${h.address}:${layout.appPort} max_fails=1 fail_timeout=${FAIL_TIMEOUT_S}s;`)
    .join('\n');
  return `upstream portico {
${servers}
    keepalive 32;
    keepalive_timeout 60s;
}

server {
    listen ${layout.listen};

    location / {
        proxy_pass http://portico;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_next_upstream error timeout http_502 http_503;
        proxy_next_upstream_tries 3;
        proxy_connect_timeout 1s;
    }
}
`;
}

/**
 * The same hosts, spoken to in the uwsgi protocol (portico --protocol uwsgi).
 * No keepalive: nginx closes a uwsgi connection after each response.
 */
export function nginxUwsgiSite(layout: ClusterLayout): string {
  const servers = layout.hosts
    .map((h) => `    server ${h.address}:${layout.appPort} max_fails=1 fail_timeout=${FAIL_TIMEOUT_S}s;`)
    .join('\n');
  return `upstream portico_uwsgi {
${servers}
}

server {
    listen ${layout.listen};

    location / {
        include uwsgi_params;
        uwsgi_pass portico_uwsgi;
        uwsgi_next_upstream error timeout http_503;
        uwsgi_next_upstream_tries 3;
        uwsgi_connect_timeout 1s;
    }
}
`;
}

export function haproxySite(layout: ClusterLayout): string {
  const servers = layout.hosts.map((h) => `    server ${h.name} ${h.address}:${layout.appPort}`).join('\n');
  return `defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 30s
    timeout http-keep-alive 60s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response

frontend www
    bind ${layout.listen.includes(':') ? layout.listen : `:${layout.listen}`}
    default_backend portico

backend portico
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    http-request disable-l7-retry unless METH_GET
    default-server send-proxy-v2 check port ${layout.controlPort} inter ${CHECK_INTER_MS / 1000}s fall ${CHECK_FALL} rise ${CHECK_RISE}
${servers}
`;
}

/** What is in front of a host: nginx's proxy_pass, nginx's uwsgi_pass, or HAProxy. */
export type HostRole = 'nginx' | 'nginx-uwsgi' | 'haproxy';

/** A host's command line behind each balancer, as docs/deploy.md shows it (the test adds --pythonpath and its own APP). */
export function hostCommand(balancer: HostRole, balancerAddress: string, layout: ClusterLayout = DOC_CLUSTER): string {
  const flags = hostFlags(balancer, balancerAddress).join(' ');
  return `portico -w 2 -b 0.0.0.0:${layout.appPort} --control-bind 0.0.0.0:${layout.controlPort} ${flags} mysite.wsgi:application`;
}

/** Each host's portico flags behind each balancer, beside -w, -b and --control-bind. */
export function hostFlags(balancer: HostRole, balancerAddress: string): string[] {
  const common = ['--keep-alive', String(HOST_KEEP_ALIVE_S), '--graceful-timeout', '10'];
  switch (balancer) {
    case 'nginx':
      return [...common, '--forwarded-allow-ips', balancerAddress];
    case 'nginx-uwsgi':
      return [...common, '--protocol', 'uwsgi', '--uwsgi-allow-from', balancerAddress];
    case 'haproxy':
      return [...common, '--proxy-protocol', '--shutdown-delay', String(SHUTDOWN_DELAY_S)];
  }
}
