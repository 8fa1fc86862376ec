/**
 * Every code portico raises or answers with, each with what it means.
 * Codes are API: tests, logs and callers match on them, never on message
 * text, so a code once published keeps its meaning. Use sites write the
 * code out in full (`'PORTICO_ERR_CONFIG'`, never built from pieces) so that
 * grep finds every one; the `ErrorCode` type makes the compiler refuse a
 * code that is not in this table.
 */
export const ERROR_CODES = {
  // Start-up and supervision (thrown: PorticoError subclasses in errors.ts).
  PORTICO_ERR_CONFIG: 'A command-line argument, environment variable, config file value or createServer() option is not usable.',
  PORTICO_ERR_APP_LOAD: 'A worker could not import the application; the server halts rather than respawn.',
  PORTICO_ERR_WORKER_BOOT: 'A worker process could not be started at all (interpreter missing, not executable).',
  PORTICO_ERR_INTERPRETER: 'The --python interpreter cannot run portico: missing, not a Python, or older than the runtime supports.',
  PORTICO_ERR_FRAME: 'The worker channel carried bytes that are not a valid frame.',
  PORTICO_ERR_TLS_CERTIFICATE: 'A --certfile, --keyfile, --ca-certs or [[certificate]] file is missing, unreadable or not PEM, or a key does not match its certificate: start-up stops; a reload keeps the certificates loaded before.',
  PORTICO_ERR_CONTROL_BIND: 'A --control-bind address could not be listened on (in use, not permitted, not local); start-up stops.',

  // CGI mounts (thrown: CgiError subclasses in cgi/cgi-errors.ts, each with its status).
  PORTICO_ERR_CGI_NOT_FOUND: 'CGI, 404: the path names no script in the CGI directory.',
  PORTICO_ERR_CGI_FORBIDDEN: 'CGI, 403: the path names something that may not run (directory, dotfile, not executable, symlink out of the root).',
  PORTICO_ERR_CGI_BAD_PATH: 'CGI, 400: the path is malformed for a CGI directory (dot segments, encoded slashes, backslashes, NUL).',
  PORTICO_ERR_CGI_BAD_HEADER: "CGI, 502: the script's output does not start with a valid header block (RFC 3875 §6).",
  PORTICO_ERR_CGI_NO_HEADER: 'CGI, 502: the script ended its output before the blank line that ends the header block.',
  PORTICO_ERR_CGI_TIMEOUT: "CGI, 504: the script ran longer than the mount's timeout and was killed.",
  PORTICO_ERR_CGI_SPAWN: 'CGI, 500: the script could not be started (bad interpreter line, vanished file).',
  PORTICO_ERR_CGI_REDIRECT: 'CGI, 500: the script asked for a local redirect the server cannot follow (RFC 3875 §6.2.2).',
  PORTICO_ERR_CGI_SPAWNER: 'The CGI spawner helper could not start or start a script; scripts are then started by the front itself.',

  // Refusals: requests the front answers itself before any application sees them (http/refusal.ts).
  PORTICO_ERR_INTERNAL: '500: a fault in the front itself while admitting or routing a request; that request gets 500 and the log its stack, and every other request is served on.',
  PORTICO_ERR_PARSE: "400: Node's HTTP parser (llhttp) refused the bytes; the reason names its HPE_* code.",
  PORTICO_ERR_HEAD_TOO_LARGE: '431: the request head outgrew the most the parser holds (HPE_HEADER_OVERFLOW).',
  PORTICO_ERR_HEADERS_TIMEOUT: '408: the whole request head did not arrive within --headers-timeout.',
  PORTICO_ERR_CHUNK_EXTENSIONS_TOO_LARGE: "413: chunk extensions over Node's bound (HPE_CHUNK_EXTENSIONS_OVERFLOW).",
  PORTICO_ERR_PROXY_PROTOCOL: 'No answer, connection closed: --proxy-protocol is on and the connection did not start with a valid PROXY header.',
  PORTICO_ERR_UWSGI: 'No answer, connection closed: --protocol uwsgi is on and the connection came from a peer --uwsgi-allow-from does not name, or did not start with a valid uwsgi packet.',
  PORTICO_ERR_TLS_HANDSHAKE: 'No answer, connection closed: the TLS handshake failed (a protocol older than TLS 1.2, no common cipher), or a client certificate --cert-reqs asks for was missing or not verified.',
  PORTICO_ERR_HTTP_PROTOCOL: 'No answer, connection closed: the client speaks an HTTP version --http-protocols leaves out (HTTP/1.1 on an h2-only listener, or no ALPN), or h2c from a peer --forwarded-allow-ips does not name (told HTTP_1_1_REQUIRED).',
  PORTICO_ERR_HTTP2_RAPID_RESET: 'No answer, HTTP/2 connection cut with GOAWAY ENHANCE_YOUR_CALM: the client reset more streams within a second than --http2-max-concurrent-streams (CVE-2023-44487).',
  PORTICO_ERR_HTTP2_STALL: "HTTP/2 stream reset (CANCEL): its response could not be sent for --body-timeout, the client's flow-control window staying shut.",
  PORTICO_ERR_HTTP2_SESSION: 'No answer, HTTP/2 connection cut: Node or nghttp2 found the connection broken or abusive (protocol error, too many invalid frames or refused streams, a SETTINGS or PING flood).',
  PORTICO_ERR_HTTP2_CONNECTION_FIELD: '400: an HTTP/2 request carries a connection-specific header field (Connection, Keep-Alive, Transfer-Encoding, Upgrade, TE other than trailers), RFC 9113 §8.2.2.',
  PORTICO_ERR_HTTP2_HOST_MISMATCH: "400: an HTTP/2 request's Host differs from its :authority (RFC 9113 §8.3.1).",
  PORTICO_ERR_REQUEST_LINE_TOO_LONG: '414: the request line is over --limit-request-line.',
  PORTICO_ERR_TOO_MANY_FIELDS: '431: more header fields than --limit-request-fields.',
  PORTICO_ERR_FIELD_TOO_LARGE: '431: a header field is over --limit-request-field_size.',
  PORTICO_ERR_BODY_TOO_LARGE: '413: the declared Content-Length, or a chunked body counted as it arrives, is over --limit-request-body.',
  PORTICO_ERR_BODY_TIMEOUT: '408 (or the connection closed once the response has begun): no body bytes for --body-timeout.',
  PORTICO_ERR_BAD_VERSION: '400: a malformed HTTP version, or one not served over HTTP/1 framing (HTTP/0.9).',
  PORTICO_ERR_VERSION_NOT_SUPPORTED: '505: a major HTTP version other than 1 over HTTP/1 framing.',
  PORTICO_ERR_BAD_FIELD_NAME: '400: a header name that is not a token (RFC 9110 §5.1).',
  PORTICO_ERR_BAD_FIELD_VALUE: '400: a control character in a header value (RFC 9110 §5.5).',
  PORTICO_ERR_TE_ON_HTTP10: '400: Transfer-Encoding on an HTTP/1.0 request (RFC 9112 §6.1).',
  PORTICO_ERR_TE_AND_CL: '400: both Transfer-Encoding and Content-Length (RFC 9112 §6.1).',
  PORTICO_ERR_BAD_TE: '400: a Transfer-Encoding that is empty in places or does not end in chunked (RFC 9112 §6.3).',
  PORTICO_ERR_TE_NOT_IMPLEMENTED: '501: a transfer coding other than chunked.',
  PORTICO_ERR_BAD_CONTENT_LENGTH: '400: several Content-Length fields, or one that is not a number (RFC 9112 §6.3).',
  PORTICO_ERR_MANY_CONTENT_TYPES: '400: several Content-Type fields, a singleton whose repeats make the body ambiguous (RFC 9110 §5.3, §8.3).',
  PORTICO_ERR_FORBIDDEN_TRAILER: '400: a chunked body whose trailer section carries a field that must be in the head, such as Host or Content-Length (RFC 9110 §6.5.1).',
  PORTICO_ERR_BAD_TARGET: '400: a request target in no valid form for its method (RFC 9112 §3.2).',
  PORTICO_ERR_NO_HOST: '400: an HTTP/1.1 request without Host (RFC 9112 §3.2).',
  PORTICO_ERR_MANY_HOSTS: '400: several Host fields (RFC 9112 §3.2).',
  PORTICO_ERR_BAD_HOST: '400: a Host that is not a valid host[:port].',
  PORTICO_ERR_CONNECT_NOT_IMPLEMENTED: '501: CONNECT; portico is no proxy.',
  PORTICO_ERR_BAD_FORWARDED: '400: a trusted peer sent a malformed Forwarded or X-Forwarded-* header.',
  PORTICO_ERR_CONFLICTING_FORWARDED: '400: a trusted peer sent forwarding headers that disagree about the client.',
} as const satisfies Record<`PORTICO_ERR_${string}`, string>;

export type ErrorCode = keyof typeof ERROR_CODES;
