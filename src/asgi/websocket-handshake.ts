/**
 * The opening handshake of a WebSocket (RFC 6455 §4.2.1), checked before
 * any application hears of it: a request that asks to upgrade to websocket
 * and is not a valid handshake gets 400 from the front, with the version it
 * speaks (§4.4), as uvicorn does.
 */
import type { IncomingMessage } from 'node:http';

/** RFC 6455 §4.1: a GET whose Upgrade names websocket and whose Connection names upgrade. */
export function asksForWebSocket(req: IncomingMessage): boolean {
  return hasToken(req.headers.upgrade, 'websocket') && hasToken(req.headers.connection, 'upgrade');
}

/** Why the handshake is invalid, or null for a valid one. */
export function handshakeFault(req: IncomingMessage): string | null {
  if (req.method !== 'GET') return `a WebSocket handshake must be a GET, not ${req.method}`;
  const key = req.headers['sec-websocket-key'];
  // §4.2.1 item 5: the base64 of 16 random bytes.
  if (key === undefined || !/^[A-Za-z0-9+/]{22}==$/.test(key.trim())) return 'Sec-WebSocket-Key is missing or not 16 bytes in base64';
  if (req.headers['sec-websocket-version'] !== '13') return `Sec-WebSocket-Version '${req.headers['sec-websocket-version'] ?? ''}' is not 13`;
  return null;
}

/** §4.4: the versions the server speaks go with the refusal. */
export const SUPPORTED_VERSION_HEADER = { 'Sec-WebSocket-Version': '13' } as const;

/** Sec-WebSocket-Protocol's offers, in order (§4.1 item 10; ASGI's scope "subprotocols"). */
export function offeredSubprotocols(req: IncomingMessage): string[] {
  const value = req.headers['sec-websocket-protocol'];
  if (value === undefined) return [];
  return value.split(',').map((token) => token.trim()).filter((token) => token !== '');
}

function hasToken(value: string | undefined, token: string): boolean {
  return value !== undefined && value.split(',').some((part) => part.trim().toLowerCase() === token);
}
