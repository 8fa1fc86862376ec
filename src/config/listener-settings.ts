/**
 * The listener's part of a server's options. Here rather than in the
 * listener, so that http/ knows nothing of the settings table and config/
 * depends on http/, not both ways.
 */
import { ConfigError } from '../errors.js';
import { compileTrust } from '../http/proxy-headers.js';
import type { ListenerOptions } from '../http/listener.js';
import type { ServerOptions } from './settings.js';

export function listenerOptions(options: ServerOptions, onRefuse?: ListenerOptions['onRefuse']): ListenerOptions {
  if (options.proxyProtocol && options.protocol === 'uwsgi') {
    // A uwsgi packet names the client itself (REMOTE_ADDR): a PROXY header in front of it would say it twice.
    throw new ConfigError('--proxy-protocol and --protocol uwsgi cannot be used together: the uwsgi packet carries the client address itself');
  }
  return {
    keepAliveSeconds: options.keepAlive,
    limits: {
      requestLine: options.limitRequestLine,
      requestFields: options.limitRequestFields,
      requestFieldSize: options.limitRequestFieldSize,
      requestBody: options.limitRequestBody,
    },
    headersTimeoutSeconds: options.headersTimeout,
    bodyTimeoutSeconds: options.bodyTimeout,
    maxConnections: options.maxConnections,
    proxyProtocol: options.proxyProtocol,
    uwsgiAllowFrom: options.protocol === 'uwsgi' ? compileTrust(options.uwsgiAllowFrom) : null,
    trust: compileTrust(options.forwardedAllowIps),
    ...(onRefuse === undefined ? {} : { onRefuse }),
  };
}
