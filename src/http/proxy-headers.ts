/**
 * Trusted forwarding headers: who the client is and how it connected, when
 * the peer is a proxy named in --forwarded-allow-ips. From any other peer
 * the headers are only headers: they reach the application as HTTP_* and
 * change nothing else (waitress's proxy_headers.py, gunicorn's
 * forwarded_allow_ips).
 */
import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';
import { ConfigError } from '../errors.js';
import { quoteForLog } from '../observability/quote-for-log.js';
import { FORWARDED_PAIR, HOST } from './rfc9112.js';
import type { ErrorCode } from '../error-codes.js';
import { refusal, type Refusal } from './refusal.js';

export type Trust = (address: string, hop: number) => boolean;

/** The part of the RequestContext that depends on who is asking. */
export interface ClientInfo {
  remoteAddr: string;
  remotePort: string;
  scheme: 'http' | 'https';
  /** A trusted proxy's X-Forwarded-Host / Forwarded host, replacing Host; null for none. */
  forwardedHost: string | null;
}

/** The address a connection came from: the socket's, or the PROXY protocol source. */
export interface Peer {
  address: string;
  port: number | null;
  /** The client's connection was TLS, ended before us (a uwsgi HTTPS=on): the scheme is https. */
  tls?: boolean;
}

/**
 * Compiles --forwarded-allow-ips: comma-separated addresses and CIDR ranges
 * ('10.0.0.0/8', '::1'), proxy-addr's names ('loopback', 'uniquelocal'), or
 * '*' to trust every peer.
 */
export function compileTrust(spec: string, flag = '--forwarded-allow-ips'): Trust {
  const entries = spec.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  if (entries.includes('*')) return () => true;
  if (entries.length === 0) return () => false;
  try {
    return proxyAddr.compile(entries);
  } catch (error) {
    throw new ConfigError(`${flag}: ${(error as Error).message}`);
  }
}

const bad = (code: ErrorCode, reason: string): Refusal => refusal(400, code, reason);

/**
 * Works out the client of `req`. The client address is the right-most
 * untrusted hop: walking the forwarding chain from the peer leftwards,
 * every address a trusted proxy vouches for is followed, and the first one
 * not trusted is the client (proxy-addr's algorithm). Headers from a trusted
 * peer that disagree (X-Forwarded-Proto against Forwarded proto=, and so on)
 * get 400: a request that could be read two ways is not served.
 *
 * X-Forwarded-Proto is read as one value, not per hop. It has no
 * specification and its readers disagree on a list: gunicorn compares the
 * whole value with 'https' and refuses two lines that differ
 * (InvalidSchemeHeaders), waitress refuses any comma, Django believes the
 * first entry and Werkzeug's ProxyFix the last. So entries that differ, in
 * one line or in several (the same thing, RFC 9110 §5.3), get 400. In
 * Forwarded, proto= is per hop by definition (RFC 7239 §4), so elements
 * that differ are a chain and the client's element is the one taken.
 */
export function resolveClient(req: IncomingMessage, trust: Trust, peer: Peer = socketPeer(req)): ClientInfo | Refusal {
  const own: ClientInfo = { remoteAddr: peer.address, remotePort: peer.port === null ? '' : String(peer.port), scheme: peer.tls === true ? 'https' : 'http', forwardedHost: null };
  const forwarded = header(req, 'forwarded');
  const xff = header(req, 'x-forwarded-for');
  const xfProto = header(req, 'x-forwarded-proto');
  const xfHost = header(req, 'x-forwarded-host');
  // Most requests carry none: then the peer's trust (an address parse) need not be asked.
  if (forwarded === null && xff === null && xfProto === null && xfHost === null) return own;
  if (!trust(peer.address, 0)) return own;

  let viaForwarded: Hop | null = null;
  if (forwarded !== null) {
    const elements = parseForwarded(forwarded);
    if (elements === null) return bad('PORTICO_ERR_BAD_FORWARDED', `malformed Forwarded '${quoteForLog(forwarded)}'`);
    if (elements.some((element) => element.for !== undefined)) {
      viaForwarded = walk(peer.address, elements.map((element) => element.for ?? 'unknown'), trust);
    } else {
      // Only proto= or host= (a proxy that hides the client): the peer stays the client.
      viaForwarded = { address: peer.address, port: null, index: elements.length - 1, namesClient: false, proto: null, host: null };
    }
    const element = viaForwarded.index === null ? undefined : elements[viaForwarded.index];
    viaForwarded.proto = element?.proto ?? null;
    viaForwarded.host = element?.host ?? null;
  }
  const xfProtos = new Set(splitList(xfProto ?? '').map((proto) => proto.toLowerCase()));
  if (xfProtos.size > 1) return bad('PORTICO_ERR_CONFLICTING_FORWARDED', `X-Forwarded-Proto entries disagree (${quoteForLog([...xfProtos].join(', '))})`);
  const xfProtoValue = [...xfProtos][0] ?? null;
  let viaXff: Hop | null = null;
  if (xff !== null) {
    const list = splitList(xff);
    viaXff = walk(peer.address, list, trust);
    viaXff.proto = xfProtoValue;
    viaXff.host = xfHost === null ? null : pickAligned(splitList(xfHost), list.length, viaXff.index);
  } else if (xfProto !== null || xfHost !== null) {
    // X-Forwarded-Proto or -Host without -For: the peer itself speaks for the request.
    viaXff = { address: peer.address, port: null, index: null, namesClient: false, proto: xfProtoValue, host: xfHost === null ? null : lastOf(xfHost) };
  }

  const hops = [viaForwarded, viaXff].filter((hop): hop is Hop => hop !== null);
  const addresses = new Set(hops.filter((hop) => hop.namesClient).map((hop) => hop.address));
  if (addresses.size > 1) return bad('PORTICO_ERR_CONFLICTING_FORWARDED', `Forwarded and X-Forwarded-For name different clients (${quoteForLog([...addresses].join(', '))})`);
  const protos = new Set(hops.map((hop) => hop.proto?.toLowerCase()).filter((proto): proto is string => proto !== undefined));
  if (protos.size > 1) return bad('PORTICO_ERR_CONFLICTING_FORWARDED', `Forwarded and X-Forwarded-Proto disagree (${quoteForLog([...protos].join(', '))})`);
  const hosts = new Set(hops.map((hop) => hop.host).filter((host): host is string => host !== null));
  if (hosts.size > 1) return bad('PORTICO_ERR_CONFLICTING_FORWARDED', `Forwarded and X-Forwarded-Host disagree (${quoteForLog([...hosts].join(', '))})`);

  const [proto] = protos;
  if (proto !== undefined && proto !== 'http' && proto !== 'https') return bad('PORTICO_ERR_BAD_FORWARDED', `forwarded scheme '${quoteForLog(proto)}'`);
  const [host] = hosts;
  if (host !== undefined && !HOST.test(host)) return bad('PORTICO_ERR_BAD_FORWARDED', `forwarded host '${quoteForLog(host)}'`);
  const chosen = hops.find((hop) => hop.namesClient);
  return {
    remoteAddr: chosen?.address ?? own.remoteAddr,
    // A proxy's hop has no port unless Forwarded gave one; '0' keeps int(REMOTE_PORT) working.
    remotePort: chosen === undefined ? own.remotePort : chosen.port === null ? '0' : String(chosen.port),
    // No proto from the proxy: the scheme is the connection's own (TLS, or a uwsgi HTTPS=on).
    scheme: (proto as 'http' | 'https' | undefined) ?? own.scheme,
    forwardedHost: host ?? null,
  };
}

interface Hop {
  address: string;
  port: number | null;
  /** Index of the client's hop in the header's list; null when the peer itself is the client. */
  index: number | null;
  /** Whether the header named the client's address (Forwarded for=, X-Forwarded-For). */
  namesClient: boolean;
  proto: string | null;
  host: string | null;
}

/** proxy-addr's walk over `[peer, ...list reversed]`, stopping at the first untrusted address. */
function walk(peerAddress: string, list: string[], trust: Trust): Hop {
  const nodes = list.map(splitNode);
  const fake = { headers: { 'x-forwarded-for': nodes.map((node) => node.address).join(', ') }, socket: { remoteAddress: peerAddress } };
  const chain = proxyAddr.all(fake as unknown as IncomingMessage, trust);
  // An empty list: the peer speaks for itself.
  if (chain.length <= 1) return { address: peerAddress, port: null, index: null, namesClient: false, proto: null, host: null };
  const index = list.length - (chain.length - 1);
  return { address: chain[chain.length - 1] as string, port: nodes[index]?.port ?? null, index, namesClient: true, proto: null, host: null };
}

/**
 * The entry of X-Forwarded-Host that belongs to the client's hop: the
 * one at the same position when the list is as long as X-Forwarded-For, else
 * the one the nearest proxy wrote (the last).
 */
function pickAligned(values: string[], forLength: number, index: number | null): string | null {
  if (values.length === 0) return null;
  if (values.length === 1) return values[0] as string;
  if (values.length === forLength && index !== null) return values[index] as string;
  return values[values.length - 1] as string;
}

function lastOf(value: string): string | null {
  const list = splitList(value);
  return list.length === 0 ? null : (list[list.length - 1] as string);
}

function splitList(value: string): string[] {
  return value.split(',').map((part) => part.trim()).filter((part) => part !== '');
}

/** node = nodename [ ":" node-port ] (RFC 7239 §6); IPv6 names come bracketed. */
function splitNode(node: string): { address: string; port: number | null } {
  const v6 = /^\[([^\]]+)\](?::([0-9]+))?$/.exec(node);
  if (v6 !== null) return { address: v6[1] as string, port: v6[2] === undefined ? null : Number(v6[2]) };
  const v4 = /^([0-9.]+):([0-9]+)$/.exec(node);
  if (v4 !== null) return { address: v4[1] as string, port: Number(v4[2]) };
  return { address: node, port: null };
}

interface ForwardedElement {
  for?: string;
  proto?: string;
  host?: string;
}

/**
 * Forwarded = 1#forwarded-element (RFC 7239 §4): one element per hop, pairs
 * separated by ';', values tokens or quoted strings. Null when malformed or
 * when an element names a parameter twice.
 */
export function parseForwarded(value: string): ForwardedElement[] | null {
  const elements: ForwardedElement[] = [];
  for (const elementText of splitOutsideQuotes(value, ',')) {
    if (elementText.trim() === '') continue;
    const element: Record<string, string> = {};
    for (const pairText of splitOutsideQuotes(elementText, ';')) {
      if (pairText.trim() === '') continue;
      const pair = FORWARDED_PAIR.exec(pairText);
      if (pair === null) return null;
      const name = (pair[1] as string).toLowerCase();
      if (name in element) return null;
      let pairValue = pair[2] as string;
      if (pairValue.startsWith('"')) pairValue = pairValue.slice(1, -1).replace(/\\(.)/g, '$1');
      element[name] = pairValue;
    }
    elements.push(element as ForwardedElement);
  }
  return elements;
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (quoted && char === '\\') {
      current += char + (text[i + 1] ?? '');
      i++;
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === separator && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  if (value === undefined) return null;
  return Array.isArray(value) ? value.join(', ') : value;
}

function socketPeer(req: IncomingMessage): Peer {
  return { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? null };
}
