/**
 * The settings table's entries (settings.ts) for HTTP/2: which protocols
 * the listeners speak, h2c for a trusted proxy, and the SETTINGS a server
 * advertises (RFC 9113 §6.5.2). Names follow gunicorn's.
 */
import { ConfigError } from '../../errors.js';
import { setting } from '../setting.js';
import { commaList, integer, oneOf } from '../value-parsers.js';

export type HttpProtocol = 'h1' | 'h2';

/** --http-protocols: a list of h1 and h2, most preferred first, as ALPN offers them (RFC 7301 §3.1). */
function httpProtocols(raw: string, flag: string): HttpProtocol[] {
  const protocols = commaList(raw.toLowerCase());
  if (protocols.length === 0) throw new ConfigError(`${flag}: expected h1, h2 or both, got '${raw}'`);
  for (const protocol of protocols) {
    if (protocol !== 'h1' && protocol !== 'h2') throw new ConfigError(`${flag}: expected h1 or h2, got '${protocol}'`);
  }
  return [...new Set(protocols)] as HttpProtocol[];
}

/** RFC 9113 §6.5.2: SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 is a FLOW_CONTROL_ERROR. */
const MAX_WINDOW_SIZE = 2 ** 31 - 1;

function windowSize(raw: string, flag: string): number {
  const value = integer(1)(raw, flag);
  if (value > MAX_WINDOW_SIZE) throw new ConfigError(`${flag}: at most ${MAX_WINDOW_SIZE} (RFC 9113 §6.5.2), got '${raw}'`);
  return value;
}

export const HTTP2_SETTINGS = {
  /** The HTTP versions the listeners speak, preferred first: h1 (HTTP/1.1), h2 (HTTP/2). */
  httpProtocols: setting({
    flags: ['--http-protocols'], metavar: 'LIST', parse: httpProtocols,
    section: 'HTTP/2', scope: 'server', env: 'PORTICO_HTTP_PROTOCOLS',
    defaultValue: (): HttpProtocol[] => ['h2', 'h1'], defaultText: 'h2,h1',
    help: 'HTTP versions to speak, preferred first: h1, h2 or both. Over TLS, ALPN offers them in this order; over plain HTTP, h2 needs --http2-cleartext.',
  }),
  /** h2c with prior knowledge (RFC 9113 §3.3) on plain HTTP listeners, for trusted proxies only. */
  http2Cleartext: setting({
    flags: ['--http2-cleartext'], metavar: 'MODE', parse: oneOf('off', 'prior-knowledge'),
    section: 'HTTP/2', scope: 'server', env: 'PORTICO_HTTP2_CLEARTEXT',
    defaultValue: (): 'off' | 'prior-knowledge' => 'off', defaultText: 'off',
    help: 'prior-knowledge: a plain HTTP connection that starts with the HTTP/2 preface speaks HTTP/2 (h2c), from peers in --forwarded-allow-ips only; others are refused. off: HTTP/1.1 only.',
  }),
  /** SETTINGS_MAX_CONCURRENT_STREAMS: streams one client may have open at once. */
  http2MaxConcurrentStreams: setting({
    flags: ['--http2-max-concurrent-streams'], metavar: 'INT', parse: integer(1),
    section: 'HTTP/2', scope: 'server', env: 'PORTICO_HTTP2_MAX_CONCURRENT_STREAMS',
    defaultValue: () => 100, defaultText: '100',
    help: 'Requests one HTTP/2 connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS); streams opened and reset faster than this each second end the connection (rapid reset).',
  }),
  /** SETTINGS_MAX_HEADER_LIST_SIZE: the decoded size of a request's header list. */
  http2MaxHeaderListSize: setting({
    flags: ['--http2-max-header-list-size'], metavar: 'BYTES', parse: integer(1024),
    section: 'HTTP/2', scope: 'server', env: 'PORTICO_HTTP2_MAX_HEADER_LIST_SIZE',
    defaultValue: () => 65536, defaultText: '65536',
    help: 'Largest HTTP/2 header list, counted after HPACK decoding (RFC 9113 §6.5.2, so an HPACK bomb is stopped); a larger one resets its stream.',
  }),
  /** SETTINGS_INITIAL_WINDOW_SIZE: request body bytes a client may send on a stream before the server asks for more. */
  http2InitialWindowSize: setting({
    flags: ['--http2-initial-window-size'], metavar: 'BYTES', parse: windowSize,
    section: 'HTTP/2', scope: 'server', env: 'PORTICO_HTTP2_INITIAL_WINDOW_SIZE',
    defaultValue: () => 65535, defaultText: '65535',
    help: 'HTTP/2 flow-control window of each stream (SETTINGS_INITIAL_WINDOW_SIZE): request body bytes a client may send before the application reads them.',
  }),
};
