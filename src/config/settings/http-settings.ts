/** The settings table's entries (settings.ts) for where the front listens and what it admits: Listening, Request limits, WebSockets, Proxies. */
import { parseBind } from '../parse-bind.js';
import { setting } from '../setting.js';
import { forwardedAllowIps, integer, oneOf, onOff, positiveSeconds, seconds } from '../value-parsers.js';

/** Checked by the one bind parser, kept as written: `ServerOptions.bind` is what a user gives. */
function bindText(raw: string, flag: string): string {
  return parseBind(raw, flag).text;
}

/**
 * sd_listen_fds(3): systemd socket activation passes listening sockets as
 * fds 3, 4, ... with LISTEN_FDS saying how many and LISTEN_PID whose they
 * are (a child that inherited the variables is not meant). Then they are
 * the binds, and nothing else is bound.
 */
function activatedSockets(env: NodeJS.ProcessEnv): string[] | null {
  const count = Number(env.LISTEN_FDS);
  if (env.LISTEN_PID !== String(process.pid) || !Number.isInteger(count) || count < 1) return null;
  return Array.from({ length: count }, (_, i) => `fd://${SD_LISTEN_FDS_START + i}`);
}

/** sd-daemon.h: the first passed file descriptor. */
const SD_LISTEN_FDS_START = 3;

export const HTTP_SETTINGS = {
  /** Addresses to listen on: HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N (an inherited listening socket). */
  bind: setting({
    flags: ['-b', '--bind'], metavar: 'ADDRESS', multiple: true, parse: bindText,
    section: 'Listening', scope: 'server', defaultEnv: ['LISTEN_FDS', 'PORT'],
    defaultValue: (env): string[] =>
      activatedSockets(env) ?? [env.PORT ? `0.0.0.0:${integer(1)(env.PORT, '$PORT')}` : '127.0.0.1:8000'],
    defaultText: "systemd's sockets when LISTEN_FDS and LISTEN_PID pass them; else 0.0.0.0:$PORT when PORT is set; else 127.0.0.1:8000",
    help: 'Address to listen on: HOST:PORT, [IPv6]:PORT, unix:PATH, or fd://N for a listening socket inherited as file descriptor N. Repeat to listen on several.',
  }),
  /** Seconds an idle keep-alive connection is kept open; 0 closes every connection after its response. */
  keepAlive: setting({
    flags: ['--keep-alive'], metavar: 'SECONDS', parse: seconds,
    section: 'Listening', scope: 'server', env: 'PORTICO_KEEP_ALIVE',
    defaultValue: () => 2, defaultText: '2',
    help: 'How long an idle keep-alive connection is kept open; 0 closes every connection after its response.',
  }),
  /** Open connections per listener past which new ones are closed at once; 0 for no limit. */
  maxConnections: setting({
    flags: ['--max-connections'], metavar: 'INT', parse: integer(0),
    section: 'Listening', scope: 'server', env: 'PORTICO_MAX_CONNECTIONS',
    defaultValue: () => 0, defaultText: '0 (no limit)',
    help: 'Open connections per listening address; past this, new connections are closed at once.',
  }),
  /** Longest request line in bytes; 0 for no limit (gunicorn's limit_request_line). */
  limitRequestLine: setting({
    flags: ['--limit-request-line'], metavar: 'INT', parse: integer(0),
    section: 'Request limits', scope: 'server', env: 'PORTICO_LIMIT_REQUEST_LINE',
    defaultValue: () => 4094, defaultText: '4094',
    help: 'Longest request line in bytes; a longer one gets 414. 0 for no limit.',
  }),
  /** Most header fields in a request (gunicorn's limit_request_fields). */
  limitRequestFields: setting({
    flags: ['--limit-request-fields'], metavar: 'INT', parse: integer(0),
    section: 'Request limits', scope: 'server', env: 'PORTICO_LIMIT_REQUEST_FIELDS',
    defaultValue: () => 100, defaultText: '100',
    help: 'Most header fields in a request; more get 431. At most 32768 (also what 0 means).',
  }),
  /** Longest header field line in bytes; 0 for no limit (gunicorn's limit_request_field_size). */
  limitRequestFieldSize: setting({
    flags: ['--limit-request-field_size', '--limit-request-field-size'], metavar: 'INT', parse: integer(0),
    section: 'Request limits', scope: 'server', env: 'PORTICO_LIMIT_REQUEST_FIELD_SIZE',
    defaultValue: () => 8190, defaultText: '8190',
    help: 'Longest header field (name, colon, space and value) in bytes; a longer one gets 431. 0 for no limit.',
  }),
  /** Largest request body in bytes; 0 for no limit. */
  limitRequestBody: setting({
    flags: ['--limit-request-body'], metavar: 'BYTES', parse: integer(0),
    section: 'Request limits', scope: 'server', env: 'PORTICO_LIMIT_REQUEST_BODY',
    defaultValue: () => 1024 ** 3, defaultText: '1073741824 (1 GiB)',
    help: 'Largest request body; a larger Content-Length gets 413 before any worker sees the request. 0 for no limit.',
  }),
  /** Seconds a client has to send the whole request head. */
  headersTimeout: setting({
    flags: ['--headers-timeout'], metavar: 'SECONDS', parse: positiveSeconds,
    section: 'Request limits', scope: 'server', env: 'PORTICO_HEADERS_TIMEOUT',
    defaultValue: () => 10, defaultText: '10',
    help: 'Time a client has to send the whole request head; then it gets 408 and the connection is closed (slowloris).',
  }),
  /** Longest pause, in seconds, while a request body arrives; 0 for none. */
  bodyTimeout: setting({
    flags: ['--body-timeout'], metavar: 'SECONDS', parse: seconds,
    section: 'Request limits', scope: 'server', env: 'PORTICO_BODY_TIMEOUT',
    defaultValue: () => 30, defaultText: '30',
    help: 'Longest pause while a request body arrives; then 408, or the connection closed if the response has begun. 0 for none.',
  }),
  /** Peers trusted to set X-Forwarded-* and Forwarded: addresses and CIDR ranges, comma-separated, or '*'. */
  forwardedAllowIps: setting({
    flags: ['--forwarded-allow-ips'], metavar: 'ADDRESSES', parse: forwardedAllowIps,
    section: 'Proxies', scope: 'server', env: 'PORTICO_FORWARDED_ALLOW_IPS', defaultEnv: ['FORWARDED_ALLOW_IPS'],
    // Set but empty trusts no one, as in gunicorn (os.environ.get with a default) and as --forwarded-allow-ips= does.
    defaultValue: (env) => (env.FORWARDED_ALLOW_IPS !== undefined ? forwardedAllowIps(env.FORWARDED_ALLOW_IPS, '$FORWARDED_ALLOW_IPS') : '127.0.0.1,::1'),
    defaultText: "$FORWARDED_ALLOW_IPS, or '127.0.0.1,::1'",
    help: "Peers whose X-Forwarded-For, -Proto, -Host and Forwarded headers are believed: comma-separated addresses and CIDR ranges, or '*' for all.",
  }),
  /** What the listeners speak: HTTP, or the uwsgi protocol for an nginx uwsgi_pass in front. */
  protocol: setting({
    flags: ['--protocol'], metavar: 'NAME', parse: oneOf('http', 'uwsgi'),
    section: 'Proxies', scope: 'server', env: 'PORTICO_PROTOCOL',
    defaultValue: (): 'http' | 'uwsgi' => 'http', defaultText: 'http',
    help: "http, or uwsgi: the listeners speak the uwsgi protocol, for nginx's uwsgi_pass or Apache's mod_proxy_uwsgi in front.",
  }),
  /** Peers that may speak the uwsgi protocol: addresses and CIDR ranges, comma-separated, or '*'. */
  uwsgiAllowFrom: setting({
    flags: ['--uwsgi-allow-from'], metavar: 'ADDRESSES', parse: forwardedAllowIps,
    section: 'Proxies', scope: 'server', env: 'PORTICO_UWSGI_ALLOW_FROM',
    defaultValue: () => '127.0.0.1,::1', defaultText: "'127.0.0.1,::1'",
    help: "With --protocol uwsgi, the peers that may connect (a UNIX socket's file permissions say it for unix: binds): comma-separated addresses and CIDR ranges, or '*'. Anyone else is refused at once.",
  }),
  /** Every connection starts with a HAProxy PROXY protocol v1 or v2 header. */
  proxyProtocol: setting({
    flags: ['--proxy-protocol'],
    section: 'Proxies', scope: 'server', env: 'PORTICO_PROXY_PROTOCOL',
    defaultValue: () => false, defaultText: 'off',
    help: "Every connection starts with a HAProxy PROXY protocol v1 or v2 header, whose source address is then the peer's.",
  }),
  /** Largest WebSocket message in bytes, after permessage-deflate inflates it; a larger one closes the connection with 1009. */
  wsMaxSize: setting({
    flags: ['--ws-max-size'], metavar: 'BYTES', parse: integer(1),
    section: 'WebSockets', scope: 'server', env: 'PORTICO_WS_MAX_SIZE',
    defaultValue: () => 16 * 1024 * 1024, defaultText: '16777216 (16 MiB)',
    help: 'Largest WebSocket message, counted after permessage-deflate inflates it (so a compression bomb is stopped); a larger one closes the connection with 1009.',
  }),
  /** Messages from a client that may wait for the application; past them the front stops reading that socket. */
  wsMaxQueue: setting({
    flags: ['--ws-max-queue'], metavar: 'INT', parse: integer(1),
    section: 'WebSockets', scope: 'server', env: 'PORTICO_WS_MAX_QUEUE',
    defaultValue: () => 32, defaultText: '32',
    help: "Messages from one client that may wait for the application to receive them; past this the front stops reading that client's socket.",
  }),
  /** Seconds between pings to an idle WebSocket client; 0 for none. */
  wsPingInterval: setting({
    flags: ['--ws-ping-interval'], metavar: 'SECONDS', parse: seconds,
    section: 'WebSockets', scope: 'server', env: 'PORTICO_WS_PING_INTERVAL',
    defaultValue: () => 20, defaultText: '20',
    help: 'Seconds between pings the front sends each WebSocket client; 0 sends none.',
  }),
  /** Seconds a WebSocket client has to answer a ping. */
  wsPingTimeout: setting({
    flags: ['--ws-ping-timeout'], metavar: 'SECONDS', parse: seconds,
    section: 'WebSockets', scope: 'server', env: 'PORTICO_WS_PING_TIMEOUT',
    defaultValue: () => 20, defaultText: '20',
    help: 'Seconds a WebSocket client has to answer a ping with a pong; then the connection is closed with 1011.',
  }),
  /** Offer permessage-deflate (RFC 7692) to WebSocket clients. */
  wsPerMessageDeflate: setting({
    flags: ['--ws-per-message-deflate'], metavar: 'BOOL', parse: onOff,
    section: 'WebSockets', scope: 'server', env: 'PORTICO_WS_PER_MESSAGE_DEFLATE',
    defaultValue: () => true, defaultText: 'true',
    help: 'Accept permessage-deflate compression (RFC 7692) from WebSocket clients that offer it: true or false.',
  }),
};
