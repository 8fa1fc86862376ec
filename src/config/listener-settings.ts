/**
 * The listener's part of a server's options. Here rather than in the
 * listener, so that http/ knows nothing of the settings table and config/
 * depends on http/, not both ways.
 */
import { compileTrust } from '../http/proxy-headers.js';
import type { ListenerOptions } from '../http/listener.js';
import type { ServerOptions } from './settings.js';

export function listenerOptions(options: ServerOptions, onRefuse?: ListenerOptions['onRefuse']): ListenerOptions {
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
    trust: compileTrust(options.forwardedAllowIps),
    ...(onRefuse === undefined ? {} : { onRefuse }),
  };
}
