/**
 * Turns bind addresses into listening HTTP servers, and keeps at the door
 * what must not reach an application: requests over the size limits,
 * requests that could be read two ways (request-validation.ts), forwarding
 * headers from untrusted peers (proxy-headers.ts), clients that trickle.
 * A request reaches the handler only once its head is complete and valid.
 */
import { RequestRecord, type RequestContext, type Upgrade } from './request-record.js';
import cluster from 'node:cluster';
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, ServerResponse, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Bind } from './bind.js';
import { ConfigError } from '../errors.js';
import { sendErrorResponse } from './error-response.js';
import { watchBodyIdle } from './body-timeout.js';
import { answerClientError, closingResponse } from './client-error.js';
import { checkDeclaredBody, checkHeadLimits, DEFAULT_LIMITS, maxHeaderSize, type RequestLimits } from './limits.js';
import { compileTrust, resolveClient, type Peer, type Trust } from './proxy-headers.js';
import { prefacePeer, requirePreface } from './connection-preface.js';
import { uwsgiReader } from './uwsgi-protocol.js';
import { requireProxyProtocol } from './proxy-protocol.js';
import { isClosing, refusal, type Refusal } from './refusal.js';
import { checkConnect, checkRequest } from './request-validation.js';
import type { TlsContext } from './tls-context.js';
import { tlsFacts, tlsPeer } from './tls-facts.js';
import { drainingAwareResponse } from './draining-response.js';
import { asHttp1, connectionSocket, isHttp2 } from './http2-messages.js';
import { loadHttps } from '../lazy-package.js';
import { Http2Sessions, routeByAlpn, type Http2Settings } from './http2-sessions.js';
import { routeCleartextHttp2 } from './http2-cleartext.js';

/** Gets each admitted request's record: with who asked and how (RequestContext). */
export type RequestHandler = (request: RequestRecord) => void;

export interface ListenerOptions {
  keepAliveSeconds: number;
  /** --limit-request-*; gunicorn's defaults when absent. */
  limits?: RequestLimits;
  /** --headers-timeout: the whole head must arrive within this (slowloris); default 10. */
  headersTimeoutSeconds?: number;
  /** --body-timeout: longest pause while a request body arrives; 0 for none; default 30. */
  bodyTimeoutSeconds?: number;
  /** --max-connections: connections past this are closed at once; 0 for no limit. */
  maxConnections?: number;
  /** --proxy-protocol: every connection starts with a PROXY v1 or v2 header. */
  proxyProtocol?: boolean;
  /** --protocol uwsgi: who may speak it (--uwsgi-allow-from); null or absent for HTTP. */
  uwsgiAllowFrom?: Trust | null;
  /** --forwarded-allow-ips, compiled; loopback only when absent. */
  trust?: Trust;
  /** --certfile: the listener speaks HTTPS, under this context (shared by every listener, so that SIGHUP reaches all); absent for HTTP. */
  tls?: TlsContext | null;
  /** Told of every request refused at the door (req is null for a parse error or a bad PROXY header). */
  onRefuse?: (req: IncomingMessage | null, refusal: Refusal) => void;
  /** --http-protocols, preferred first: HTTP/1.1 ('h1') alone when absent. */
  httpProtocols?: ReadonlyArray<'h1' | 'h2'>;
  /** HTTP/2's SETTINGS, needed when httpProtocols has h2. */
  http2?: Http2Settings | null;
  /** --http2-cleartext prior-knowledge: plain HTTP listeners take h2c from --forwarded-allow-ips peers. */
  http2Cleartext?: boolean;
}

/** One listening socket with its HTTP server. */
export class Listener {
  #serverNameAndPort: { serverName: string; serverPort: string } | null = null;
  /** The server drains (stopAccepting): no response begun from now on keeps its connection. */
  #draining = false;
  readonly server: HttpServer;
  readonly bind: Bind;
  readonly #limits: RequestLimits;
  readonly #trust: Trust;
  readonly #bodyTimeoutMs: number;
  /** --keep-alive 0: every connection closes after its response, as in gunicorn. */
  readonly #keepAlive: boolean;
  /** Set on each response's 'finish': see keepAliveExactly. */
  readonly #keepAliveExactly: (this: ServerResponse) => void;
  readonly #onRefuse: NonNullable<ListenerOptions['onRefuse']>;
  readonly #tls: boolean;
  /** The HTTP/2 side, when this listener speaks it. */
  readonly #http2: Http2Sessions | null;

  constructor(bind: Bind, handler: RequestHandler, options: ListenerOptions) {
    this.bind = bind;
    this.#limits = options.limits ?? DEFAULT_LIMITS;
    this.#trust = options.trust ?? compileTrust('127.0.0.1,::1');
    this.#bodyTimeoutMs = (options.bodyTimeoutSeconds ?? 30) * 1000;
    this.#keepAlive = options.keepAliveSeconds > 0;
    this.#keepAliveExactly = keepAliveExactly(options.keepAliveSeconds * 1000);
    this.#onRefuse = options.onRefuse ?? (() => {});
    const headersTimeoutMs = (options.headersTimeoutSeconds ?? 10) * 1000;
    const guarded = (req: IncomingMessage, res: ServerResponse): void => this.#admit(req, res, handler);
    const httpOptions = {
      keepAliveTimeout: options.keepAliveSeconds * 1000,
      maxHeaderSize: maxHeaderSize(this.#limits),
      // Explicit, though the default: llhttp's strict mode.
      insecureHTTPParser: false,
      // Node's own check answers 400 but keeps parsing, so a request
      // pipelined behind the refused one would still be served;
      // request-validation.ts checks Host instead (RFC 9112 §3.2).
      requireHostHeader: false,
      // The head must be complete within headersTimeout; the body has its own idle timeout.
      requestTimeout: 0,
      // Node checks both timeouts on this interval (30 s by default, far coarser than the timeout).
      connectionsCheckingInterval: Math.max(100, Math.min(1000, headersTimeoutMs / 4)),
    };
    const tls = options.tls ?? null;
    this.#tls = tls !== null;
    const protocols = options.httpProtocols ?? ['h1'];
    const http1 = protocols.includes('h1');
    const http2 = protocols.includes('h2') && options.http2 && (tls !== null || options.http2Cleartext) ? options.http2 : null;
    this.#http2 = http2 === null ? null : this.#http2Side(http2, options, headersTimeoutMs, handler);
    // ALPN (RFC 7301 §3.1): offered in --http-protocols' order, the server's choice among the client's.
    const alpn = this.#http2 === null ? ['http/1.1'] : protocols.map((protocol) => (protocol === 'h2' ? 'h2' : 'http/1.1'));
    // The HTTP/1.1 server keeps its own options and connections; HTTP/2 connections are handed to #http2.
    const responses = { ServerResponse: drainingAwareResponse(() => this.#draining) };
    this.server =
      tls === null
        ? createServer({ ...httpOptions, ...responses }, guarded)
        : loadHttps().createServer({ ...httpOptions, ...responses, ...tls.serverOptions(), ALPNProtocols: alpn }, guarded);
    this.server.headersTimeout = headersTimeoutMs;
    // Node's default of 2000 silently drops the headers past it; 0 keeps them
    // all (maxHeaderSize bounds the memory) so --limit-request-fields can refuse.
    this.server.maxHeadersCount = 0;
    if ((options.maxConnections ?? 0) > 0) this.server.maxConnections = options.maxConnections as number;
    // Listening for 'checkContinue' stops Node from answering 100 itself: the
    // 100 must wait until the application starts reading the body.
    this.server.on('checkContinue', guarded);
    this.server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
      const refused = answerClientError(error, socket);
      if (refused !== null) this.#onRefuse(null, refused);
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#admitUpgrade(req, socket, head, handler));
    this.server.on('connect', (req: IncomingMessage, socket: Duplex) => {
      const refused = checkConnect(req.url ?? '');
      this.#onRefuse(req, refused);
      socket.end(closingResponse(refused.refuse));
    });
    if (this.#http2 !== null && tls !== null) {
      routeByAlpn(this.server as unknown as TlsServer, this.#http2, http1, (reason) => this.#onRefuse(null, refusal(0, 'PORTICO_ERR_HTTP_PROTOCOL', reason)));
    } else if (this.#http2 !== null) {
      // Before the PROXY header reader below, which then reads first.
      const onRefuse = (reason: string): void => this.#onRefuse(null, refusal(0, 'PORTICO_ERR_HTTP_PROTOCOL', reason));
      const sessions = this.#http2;
      routeCleartextHttp2(this.server, { http1, trust: this.#trust, toHttp2: (socket) => sessions.accept(socket), onRefuse }, headersTimeoutMs);
    }
    tls?.attach(this.server as unknown as TlsServer, (reason) => this.#onRefuse(null, refusal(0, 'PORTICO_ERR_TLS_HANDSHAKE', reason)));
    if (options.proxyProtocol) {
      requireProxyProtocol(this.server, headersTimeoutMs, (reason) => this.#onRefuse(null, refusal(0, 'PORTICO_ERR_PROXY_PROTOCOL', reason)));
    } else if (options.uwsgiAllowFrom) {
      requirePreface(this.server, uwsgiReader(options.uwsgiAllowFrom), headersTimeoutMs, (reason) => this.#onRefuse(null, refusal(0, 'PORTICO_ERR_UWSGI', reason)));
    }
  }

  /** HTTP/2's streams come in through the same door as HTTP/1.1's requests: #admit. */
  #http2Side(settings: Http2Settings, options: ListenerOptions, headersTimeoutMs: number, handler: RequestHandler): Http2Sessions {
    const codes = { 'rapid-reset': 'PORTICO_ERR_HTTP2_RAPID_RESET', stall: 'PORTICO_ERR_HTTP2_STALL', 'session-error': 'PORTICO_ERR_HTTP2_SESSION' } as const;
    return new Http2Sessions(
      {
        ...settings,
        requestFields: this.#limits.requestFields,
        idleTimeoutMs: options.keepAliveSeconds > 0 ? options.keepAliveSeconds * 1000 : headersTimeoutMs,
        // A response that cannot leave is held to the bound a request body that does not arrive is.
        stallTimeoutMs: this.#bodyTimeoutMs,
      },
      (h2req, h2res) => {
        const { req, res } = asHttp1(h2req, h2res);
        this.#admit(req, res, handler);
      },
      (trouble, reason) => this.#onRefuse(null, refusal(0, codes[trouble], reason)),
    );
  }

  /**
   * An Upgrade request (RFC 9110 §7.8) is an ordinary request until a mount
   * switches protocols: only an ASGI application's WebSocket does. Node
   * hands it over with the raw socket, so it gets a response of its own on
   * that socket, through the same checks and the same router as any
   * request; whoever answers it as plain HTTP closes the connection after.
   */
  #admitUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, handler: RequestHandler): void {
    const res = new ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.shouldKeepAlive = false;
    res.once('finish', () => socket.end());
    // Node parses no body for an upgrade: the request is complete as it is.
    req.resume();
    this.#admit(req, res, handler, { socket, head });
  }

  /**
   * Every request, HTTP/1.1, HTTP/2 stream or Upgrade, comes in here. An
   * exception from the front's own request path is a fault in portico, not
   * the client's or the application's: left to Node it would end the
   * process, and the site with it. This request gets 500 and the log the
   * stack; every other request is served on.
   */
  #admit(req: IncomingMessage, res: ServerResponse, handler: RequestHandler, upgrade: Upgrade | null = null): void {
    try {
      this.#admitChecked(req, res, handler, upgrade);
    } catch (error) {
      this.#onRefuse(req, refusal(500, 'PORTICO_ERR_INTERNAL', (error as Error).stack ?? String(error)));
      if (res.headersSent) res.destroy();
      else sendErrorResponse(res, 500, { close: true });
    }
  }

  #admitChecked(req: IncomingMessage, res: ServerResponse, handler: RequestHandler, upgrade: Upgrade | null): void {
    // Node may already have parsed requests pipelined behind a refused one;
    // they are dropped unanswered and the connection closes after the refusal.
    if (isClosing(req.socket)) return;
    const facts = checkRequest(req);
    const refused =
      checkHeadLimits(req, this.#limits) ?? ('refuse' in facts ? facts : null) ?? checkDeclaredBody(req, this.#limits);
    if (refused !== null) return this.#refuse(req, res, refused);
    const connection = connectionSocket(req);
    const peer = this.#peer(connection);
    const client = resolveClient(req, this.#trust, peer);
    if ('refuse' in client) return this.#refuse(req, res, client);
    const targetAuthority = 'refuse' in facts ? null : facts.targetAuthority;
    const { serverName, serverPort } = this.serverNameAndPort;
    const context: RequestContext = {
      scheme: client.scheme,
      serverName,
      serverPort,
      remoteAddr: client.remoteAddr,
      remotePort: client.remotePort,
      forwardedHost: client.forwardedHost ?? targetAuthority,
      tls: this.#tls ? tlsFacts(connection as TLSSocket) : null,
    };
    watchBodyIdle(req, res, this.#bodyTimeoutMs, () => {
      this.#onRefuse(req, refusal(408, 'PORTICO_ERR_BODY_TIMEOUT', `no request body bytes for ${this.#bodyTimeoutMs} ms`));
      if (res.headersSent) res.destroy();
      else sendErrorResponse(res, 408, { close: true });
    });
    // An HTTP/2 connection outlives its streams: its idleness is http2-sessions.ts's.
    if (!isHttp2(req)) {
      if (!this.#keepAlive) res.shouldKeepAlive = false;
      else res.on('finish', this.#keepAliveExactly);
    }
    handler(new RequestRecord(req, res, context, upgrade));
  }

  /** Who the connection is from: the PROXY header's source when there was one, else the socket's; over TLS, the scheme is https (tlsPeer). */
  #peer(socket: Socket): Peer | undefined {
    if (!this.#tls) return prefacePeer(socket) ?? undefined;
    return tlsPeer(socket as TLSSocket);
  }

  #refuse(req: IncomingMessage, res: ServerResponse, refused: Refusal): void {
    this.#onRefuse(req, refused);
    sendErrorResponse(res, refused.refuse, { close: true });
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const bind = this.bind;
      const failed = (error: NodeJS.ErrnoException): void => {
        if (bind.kind !== 'fd') return reject(error);
        reject(new ConfigError(`--bind ${bind.text}: file descriptor ${bind.fd} is not a socket this process inherited (${error.code ?? error.message})`));
      };
      this.server.once('error', failed);
      const done = (): void => {
        this.server.off('error', failed);
        resolve();
      };
      if (bind.kind === 'unix') {
        // A --fronts front listens through its parent, which removed a stale file before any front started.
        if (!cluster.isWorker) removeStaleSocket(bind.path);
        this.server.listen(bind.path, done);
      } else if (bind.kind === 'fd') {
        // Already bound, and usually listening, by whoever passed it (systemd): TCP or UNIX, as it is.
        this.server.listen({ fd: bind.fd }, done);
      } else {
        this.server.listen({ host: bind.host, port: bind.port }, done);
      }
    });
  }

  /**
   * Stops accepting, then closes the idle keep-alive connections. The order
   * matters: http.Server.close() closes the idle connections before the
   * listening socket, and a client that reconnects the moment its idle
   * connection ends could still finish a handshake into the backlog and
   * then be reset, where it must be refused. http.Server.close() after the
   * socket is gone closes the idle connections and stops its timers. HTTP/2
   * connections get GOAWAY: their open streams finish (RFC 9113 §6.8).
   */
  stopAccepting(): void {
    // Every response whose head is still to come closes its connection after it (RFC 9112 §9.6).
    this.#draining = true;
    NetServer.prototype.close.call(this.server);
    this.server.close();
    this.#http2?.closeGracefully();
  }

  /** Cuts every connection left, HTTP/1.1 and HTTP/2: the end of a drain. */
  closeAllConnections(): void {
    this.server.closeAllConnections();
    this.#http2?.closeAll();
  }

  /** `http://host:port` (`https://` over TLS) or `unix:path`, with the real port once listening; an inherited socket (fd://N) as what it turned out to be. */
  get url(): string {
    if (this.bind.kind === 'unix') return `unix:${this.bind.path}`;
    const address = this.#address();
    if (typeof address === 'string') return `unix:${address}`;
    if (address === null) return this.bind.text;
    const host = address.address;
    return `${this.#tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  }

  /** SERVER_NAME and SERVER_PORT for requests without a Host header; fixed once listening. */
  get serverNameAndPort(): { serverName: string; serverPort: string } {
    if (this.#serverNameAndPort !== null) return this.#serverNameAndPort;
    const address = this.#address();
    const found =
      address === null || typeof address === 'string'
        ? { serverName: 'localhost', serverPort: '' }
        : { serverName: address.address, serverPort: String(address.port) };
    if (this.bind.kind === 'unix' || this.server.address() !== null) this.#serverNameAndPort = found;
    return found;
  }

  /** Where it listens: the socket's own address once listening, else the bind's; a string for a UNIX socket. */
  #address(): AddressInfo | string | null {
    if (this.bind.kind === 'unix') return this.bind.path;
    const address = this.server.address();
    if (address !== null || this.bind.kind === 'fd') return address;
    return { address: this.bind.host, port: this.bind.port, family: '' };
  }
}

/**
 * Node arms an idle connection's timer for keepAliveTimeout plus a second
 * (HTTP_SERVER_KEEP_ALIVE_TIMEOUT_BUFFER in lib/_http_server.js), so that
 * `--keep-alive 2` closed after 3 s. Its clients expire their sockets a
 * second before the advertised `Keep-Alive: timeout=N` anyway; an idle
 * connection here lasts --keep-alive, as in gunicorn. Runs after Node's own
 * 'finish' listener, and changes the timer only when that listener has just
 * armed it: a connection with a pipelined request waiting keeps none.
 */
function keepAliveExactly(keepAliveMs: number): (this: ServerResponse) => void {
  const armedByNode = keepAliveMs + 1000;
  return function (this: ServerResponse): void {
    const socket = this.req.socket;
    if (socket.timeout === armedByNode) socket.setTimeout(keepAliveMs);
  };
}

/** A socket file left by a previous run would make listen() fail; anything else there is left alone. */
export function removeStaleSocket(path: string): void {
  if (existsSync(path) && lstatSync(path).isSocket()) unlinkSync(path);
}
