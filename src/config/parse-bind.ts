/**
 * The one parser of --bind: HOST:PORT, [IPv6]:PORT, :PORT, PORT, unix:PATH
 * or fd://N, into the value a Listener takes (http/bind.ts). Run when the
 * option is read, so that a typo fails before any worker starts and names
 * the flag or key it came from.
 */
import { ConfigError } from '../errors.js';
import type { Bind } from '../http/bind.js';

const TCP = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]*):(\d+)$/;
const PORT_ONLY = /^()(\d+)$/;

export function parseBind(raw: string, flag = '--bind'): Bind {
  const common = { text: raw, tls: null, protocol: 'http/1.1' } as const;
  if (raw.startsWith('unix:')) {
    if (raw.length === 5) throw new ConfigError(`${flag}: 'unix:' needs a socket path, as in unix:/run/portico.sock`);
    return { kind: 'unix', path: raw.slice(5), ...common };
  }
  if (raw.startsWith('fd://')) {
    const fd = raw.slice(5);
    if (!/^\d{1,9}$/.test(fd)) throw new ConfigError(`${flag}: 'fd://' needs a file descriptor number, as in fd://3, got '${raw}'`);
    return { kind: 'fd', fd: Number(fd), ...common };
  }
  const match = TCP.exec(raw) ?? PORT_ONLY.exec(raw);
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || port > 65535) {
    throw new ConfigError(`${flag}: expected HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N, got '${raw}'`);
  }
  const host = (match[1] as string).replace(/^\[(.*)\]$/, '$1');
  return { kind: 'tcp', host: host === '' ? '0.0.0.0' : host, port, ...common };
}
