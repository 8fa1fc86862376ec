/**
 * What the TLS tests need of a client: one request on a fresh connection
 * with Node's https (a CA to trust, a client certificate, an SNI name),
 * reporting what the handshake gave as well as the response; openssl
 * s_client for one handshake; and portico started with TLS, its `https://`
 * URL ready to use.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request, type RequestOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { startPortico, type Portico, type StartOptions } from './portico.js';

/** The listening line over TLS, with LISTENING_LINE's groups. */
export const HTTPS_LISTENING_LINE = /listening on https:\/\/(\[[^\]]+\]|[^\s:/]+):(\d+), (\d+) workers? ready/;

export interface HttpsOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** PEM files: the CA to trust, and the client certificate and key to present. */
  ca?: string;
  cert?: string;
  key?: string;
  /** The SNI name; none for an address. */
  servername?: string;
}

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The server certificate's subject CN, its protocol and the ALPN protocol agreed. */
  serverCn: string;
  protocol: string | null;
  alpn: string | false | null;
}

export function httpsRequest(url: string, options: HttpsOptions = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
        agent: false,
        ...(options.ca === undefined ? {} : { ca: readFileSync(options.ca) }),
        ...(options.cert === undefined ? {} : { cert: readFileSync(options.cert) }),
        ...(options.key === undefined ? {} : { key: readFileSync(options.key) }),
        ...(options.servername === undefined ? {} : { servername: options.servername }),
        ALPNProtocols: ['http/1.1'],
      } as RequestOptions,
      (res) => {
        const socket = res.socket as TLSSocket;
        const serverCn = String(socket.getPeerCertificate().subject?.CN ?? '');
        const protocol = socket.getProtocol();
        const alpn = socket.alpnProtocol;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8'), serverCn, protocol, alpn }));
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.end(options.body);
  });
}

/** Starts portico (with TLS options in `args`) and gives it its https:// URL. */
export async function startHttps(options: StartOptions): Promise<Portico> {
  const server = await startPortico({ ready: HTTPS_LISTENING_LINE, ...options });
  server.url = server.url.replace(/^http:/, 'https:');
  return server;
}

/** What `openssl s_client` printed (stdout and stderr) for one handshake with 127.0.0.1:`port`; its stdin is closed at once, so it ends after the handshake. */
export function opensslClient(port: number, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, ...args], { timeout: 10_000 }, (_error, stdout, stderr) => resolve(`${stdout}\n${stderr}`));
    child.stdin?.end();
  });
}
