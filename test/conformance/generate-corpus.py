"""Writes the raw-request corpus in test/conformance/http/ from the tables
below (each case's exact bytes and its .expect.json), and the limits the
server under test runs with (http/limits.json). The files are what the
tests read; rerun this after editing a table: python3 generate-corpus.py"""
import json, os
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'http')
H = 'Host: example.com\r\n'

# The limits the corpus server runs with (conformance-server.ts passes them as
# these flags), small so that the cases that hit them stay small. Every other
# case is well inside them.
LIMITS = {
 '--limit-request-line': 128,
 '--limit-request-fields': 16,
 '--limit-request-field_size': 128,
 '--limit-request-body': 64,
}
LINE, FIELDS, FIELD_SIZE, BODY = (LIMITS[flag] for flag in ('--limit-request-line', '--limit-request-fields', '--limit-request-field_size', '--limit-request-body'))

def request_line_of(length, method='GET'):
    """`METHOD /aaa…a HTTP/1.1`, `length` bytes without its CRLF (as --limit-request-line counts)."""
    return method + ' /' + 'a' * (length - len(method) - len(' / HTTP/1.1')) + ' HTTP/1.1\r\n'

def fields_of(count):
    """Host plus count - 1 more header fields."""
    return H + ''.join(f'X-F{i}: {i}\r\n' for i in range(1, count))

def field_of(size, name='X-Long'):
    """One `Name: value` field of `size` bytes (as --limit-request-field_size counts)."""
    return name + ': ' + 'v' * (size - len(name) - 2) + '\r\n'

def chunked(body):
    return ''.join(f'{len(body[i:i+16]):x}\r\n{body[i:i+16]}\r\n' for i in range(0, len(body), 16)) + '0\r\n\r\n'
invalid = [
 # (name, bytes, status, headReachesApp)
 ('cl-and-te', 'POST /x HTTP/1.1\r\n'+H+'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400),
 ('te-and-cl', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n', 400),
 ('te-and-cl-zero', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n', 400),
 ('two-cl-different', 'POST /x HTTP/1.1\r\n'+H+'Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', 400),
 ('two-cl-same', 'POST /x HTTP/1.1\r\n'+H+'Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello', 400),
 ('cl-list', 'POST /x HTTP/1.1\r\n'+H+'Content-Length: 5, 5\r\n\r\nhello', 400),
 ('cl-list-different', 'POST /x HTTP/1.1\r\n'+H+'Content-Length: 5, 6\r\n\r\nhello!', 400),
 ('cl-plus-sign', 'POST /x HTTP/1.1\r\n'+H+'Content-Length: +5\r\n\r\nhello', 400),
 ('cl-hex', 'POST /x HTTP/1.1\r\n'+H+'Content-Length: 0x5\r\n\r\nhello', 400),
 ('cl-underscore', 'POST /x HTTP/1.1\r\n'+H+'Content-Length: 1_0\r\n\r\nhellohello', 400),
 ('cl-minus-zero', 'POST /x HTTP/1.1\r\n'+H+'Content-Length: -0\r\n\r\n', 400),
 ('cl-negative', 'POST /x HTTP/1.1\r\n'+H+'Content-Length: -5\r\n\r\nhello', 400),
 ('cl-inner-space', 'POST /x HTTP/1.1\r\n'+H+'Content-Length: 1 0\r\n\r\nhellohello', 400),
 ('cl-empty', 'POST /x HTTP/1.1\r\n'+H+'Content-Length: \r\n\r\n', 400),
 ('cl-overflow', 'POST /x HTTP/1.1\r\n'+H+'Content-Length: 184467440737095516160\r\n\r\nhello', 400),
 ('cl-decimal', 'POST /x HTTP/1.1\r\n'+H+'Content-Length: 5.0\r\n\r\nhello', 400),
 ('cl-vtab', 'POST /x HTTP/1.1\r\n'+H+'Content-Length: 5\x0b\r\n\r\nhello', 400),
 ('cl-nul', 'POST /x HTTP/1.1\r\n'+H+'Content-Length: 5\x00\r\n\r\nhello', 400),
 ('te-http10', 'POST /x HTTP/1.0\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 400),
 ('te-http10-with-cl', 'POST /x HTTP/1.0\r\n'+H+'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello', 400),
 ('te-chunked-not-last', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n', 400),
 ('te-identity', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: identity\r\n\r\nhello', 400),
 ('te-gzip-only', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: gzip\r\n\r\nhello', 400),
 ('te-chunked-twice', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400),
 ('te-chunked-chunked', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n', 400),
 ('te-xchunked', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n', 400),
 ('te-chunked-param', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked;q=1\r\n\r\n0\r\n\r\n', 400),
 ('te-empty', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: \r\n\r\n', 400),
 ('te-empty-element', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n', 400),
 ('te-vtab', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: \x0bchunked\r\n\r\n0\r\n\r\n', 400),
 ('te-gzip-chunked', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n', 501),
 ('te-split-over-lines', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 501),
 ('chunk-size-not-hex', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n', 400, True),
 ('chunk-size-0x', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n', 400, True),
 ('chunk-size-trailing-space', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n', 400, True),
 ('chunk-size-negative', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n', 400, True),
 ('chunk-size-overflow', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n', 400, True),
 ('chunk-ext-nul', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5;a\x00=b\r\nhello\r\n0\r\n\r\n', 400, True),
 ('chunk-ext-bws', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5; a = b\r\nhello\r\n0\r\n\r\n', 400, True),
 ('chunk-ext-bad-token', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5;a@b=c\r\nhello\r\n0\r\n\r\n', 400, True),
 ('chunk-ext-bare-lf', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5;a=\nb\r\nhello\r\n0\r\n\r\n', 400, True),
 ('chunk-data-too-long', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n', 400, True),
 ('chunk-bare-lf', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n', 400, True),
 ('chunk-bare-cr', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5\rhello\r\n0\r\n\r\n', 400, True),
 ('chunk-trailer-bare-lf', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\n\r\n', 400, True),
 ('bare-lf-everywhere', 'GET /x HTTP/1.1\n'+'Host: example.com\n\n', 400),
 ('bare-lf-request-line', 'GET /x HTTP/1.1\n'+H+'\r\n', 400),
 ('bare-lf-one-header', 'GET /x HTTP/1.1\r\nHost: example.com\nX-A: 1\r\n\r\n', 400),
 ('bare-cr-between-headers', 'GET /x HTTP/1.1\r\nHost: example.com\rX-A: 1\r\n\r\n', 400),
 ('bare-cr-in-value', 'GET /x HTTP/1.1\r\n'+H+'X-A: a\rb\r\n\r\n', 400),
 ('bare-cr-end-of-head', 'GET /x HTTP/1.1\r\n'+H+'\r\r\n', 400),
 ('obs-fold-space', 'GET /x HTTP/1.1\r\n'+H+'X-A: a\r\n b\r\n\r\n', 400),
 ('obs-fold-tab', 'GET /x HTTP/1.1\r\n'+H+'X-A: a\r\n\tb\r\n\r\n', 400),
 ('obs-fold-first-header', 'GET /x HTTP/1.1\r\n '+H+'\r\n', 400),
 ('space-before-colon', 'GET /x HTTP/1.1\r\n'+H+'X-A : 1\r\n\r\n', 400),
 ('space-before-colon-cl', 'POST /x HTTP/1.1\r\n'+H+'Content-Length : 5\r\n\r\nhello', 400),
 ('tab-before-colon', 'GET /x HTTP/1.1\r\n'+H+'X-A\t: 1\r\n\r\n', 400),
 ('nul-in-name', 'GET /x HTTP/1.1\r\n'+H+'X\x00A: 1\r\n\r\n', 400),
 ('nul-in-value', 'GET /x HTTP/1.1\r\n'+H+'X-A: a\x00b\r\n\r\n', 400),
 ('ctl-in-value', 'GET /x HTTP/1.1\r\n'+H+'X-A: a\x01b\r\n\r\n', 400),
 ('del-in-value', 'GET /x HTTP/1.1\r\n'+H+'X-A: a\x7fb\r\n\r\n', 400),
 ('ctl-in-name', 'GET /x HTTP/1.1\r\n'+H+'X\x1bA: 1\r\n\r\n', 400),
 ('high-byte-in-name', 'GET /x HTTP/1.1\r\n'+H+'X\xe9: 1\r\n\r\n', 400),
 ('empty-name', 'GET /x HTTP/1.1\r\n'+H+': 1\r\n\r\n', 400),
 ('no-colon', 'GET /x HTTP/1.1\r\n'+H+'X-A-no-colon\r\n\r\n', 400),
 ('no-host-http11', 'GET /x HTTP/1.1\r\n\r\n', 400),
 ('two-hosts', 'GET /x HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n', 400),
 ('two-hosts-same', 'GET /x HTTP/1.1\r\nHost: a.example\r\nHost: a.example\r\n\r\n', 400),
 ('two-hosts-http10', 'GET /x HTTP/1.0\r\nHost: a.example\r\nHost: b.example\r\n\r\n', 400),
 ('host-list', 'GET /x HTTP/1.1\r\nHost: a.example, b.example\r\n\r\n', 400),
 ('host-with-space', 'GET /x HTTP/1.1\r\nHost: a b\r\n\r\n', 400),
 ('host-userinfo', 'GET /x HTTP/1.1\r\nHost: user@a.example\r\n\r\n', 400),
 ('host-bad-port', 'GET /x HTTP/1.1\r\nHost: a.example:http\r\n\r\n', 400),
 ('host-path', 'GET /x HTTP/1.1\r\nHost: a.example/x\r\n\r\n', 400),
 ('authority-form-get', 'GET example.com:80 HTTP/1.1\r\n'+H+'\r\n', 400),
 ('asterisk-form-get', 'GET * HTTP/1.1\r\n'+H+'\r\n', 400),
 ('asterisk-form-post', 'POST * HTTP/1.1\r\n'+H+'Content-Length: 0\r\n\r\n', 400),
 ('connect-origin-form', 'CONNECT /x HTTP/1.1\r\n'+H+'\r\n', 400),
 ('connect-authority-form', 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 501),
 ('target-relative', 'GET x HTTP/1.1\r\n'+H+'\r\n', 400),
 ('target-fragment', 'GET /x#frag HTTP/1.1\r\n'+H+'\r\n', 400),
 ('target-space', 'GET /a b HTTP/1.1\r\n'+H+'\r\n', 400),
 ('target-tab', 'GET /a\tb HTTP/1.1\r\n'+H+'\r\n', 400),
 ('target-nul', 'GET /a\x00b HTTP/1.1\r\n'+H+'\r\n', 400),
 ('target-ctl', 'GET /a\x01b HTTP/1.1\r\n'+H+'\r\n', 400),
 ('target-del', 'GET /a\x7fb HTTP/1.1\r\n'+H+'\r\n', 400),
 ('target-high-byte', 'GET /caf\xe9 HTTP/1.1\r\n'+H+'\r\n', 400),
 ('absolute-form-userinfo', 'GET http://user@example.com/x HTTP/1.1\r\n'+H+'\r\n', 400),
 ('absolute-form-ftp', 'GET ftp://example.com/x HTTP/1.1\r\n'+H+'\r\n', 400),
 ('absolute-form-no-authority', 'GET http:///x HTTP/1.1\r\n'+H+'\r\n', 400),
 ('version-http09', 'GET /x HTTP/0.9\r\n'+H+'\r\n', 400),
 ('version-missing', 'GET /x\r\n'+H+'\r\n', 400),
 ('version-http12', 'GET /x HTTP/1.2\r\n'+H+'\r\n', 400),
 ('version-http20', 'GET /x HTTP/2.0\r\n'+H+'\r\n', 505),
 ('version-http30', 'GET /x HTTP/3.0\r\n'+H+'\r\n', 400),
 ('version-lowercase', 'GET /x http/1.1\r\n'+H+'\r\n', 400),
 ('version-two-digit-minor', 'GET /x HTTP/1.10\r\n'+H+'\r\n', 400),
 ('version-trailing-space', 'GET /x HTTP/1.1 \r\n'+H+'\r\n', 400),
 ('method-lowercase', 'get /x HTTP/1.1\r\n'+H+'\r\n', 400),
 ('method-tab-separator', 'GET\t/x\tHTTP/1.1\r\n'+H+'\r\n', 400),
 ('garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 400),
 # The limits (LIMITS above), one byte or one field over each.
 ('limit-request-line-over', request_line_of(LINE + 1)+H+'\r\n', 414),
 ('limit-request-line-over-in-query', 'GET /a?' + 'q' * (LINE - len('GET /a? HTTP/1.1') + 1) + ' HTTP/1.1\r\n'+H+'\r\n', 414),
 ('limit-request-fields-over', 'GET /a HTTP/1.1\r\n'+fields_of(FIELDS + 1)+'\r\n', 431),
 ('limit-request-fields-over-empty-values', 'GET /a HTTP/1.1\r\n'+H+'X-E:\r\n' * FIELDS+'\r\n', 431),
 ('limit-request-field-size-over', 'GET /a HTTP/1.1\r\n'+H+field_of(FIELD_SIZE + 1)+'\r\n', 431),
 ('limit-request-field-size-long-name', 'GET /a HTTP/1.1\r\n'+H+'X-'+'n' * (FIELD_SIZE - len('X-: v') + 1)+': v\r\n\r\n', 431),
 ('limit-request-body-over', 'POST /a HTTP/1.1\r\n'+H+f'Content-Length: {BODY + 1}\r\n\r\n'+'b' * (BODY + 1), 413),
 # The declared length alone is refused: none of the body is sent or awaited.
 ('limit-request-body-huge-declared', 'POST /a HTTP/1.1\r\n'+H+'Content-Length: 1099511627776\r\n\r\n', 413),
 # A chunked body is counted as it arrives, so its head may reach the app first.
 ('limit-request-body-chunked-over', 'POST /a HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n'+chunked('b' * (BODY + 1)), 413, True),
 # CONNECT: portico is no proxy (RFC 9110 §9.3.6).
 ('connect-ipv6-authority', 'CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n', 501),
 ('connect-no-port', 'CONNECT example.com HTTP/1.1\r\nHost: example.com\r\n\r\n', 400),
 # RFC 9110 §5.3: Content-Type is one media type; two leave the body's meaning to whoever picks (gunicorn 26 refuses them too).
 ('two-content-types', 'POST /x HTTP/1.1\r\n'+H+'Content-Type: text/plain\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\nhi', 400),
 ('two-content-types-same', 'POST /x HTTP/1.1\r\n'+H+'Content-Type: text/plain\r\ncontent-type: text/plain\r\nContent-Length: 2\r\n\r\nhi', 400),
 # RFC 9110 §6.5.1: framing, routing and authentication fields may not be trailers (gunicorn 26 refuses them too).
 # Node hands trailers over only at the body's end, so the refusal comes then, before the app sees the request.
 ('trailer-host', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nHost: evil.example\r\n\r\n', 400),
 ('trailer-content-length', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n', 400),
 ('trailer-transfer-encoding', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nTransfer-Encoding: chunked\r\n\r\n', 400),
 ('trailer-authorization', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nAuthorization: Basic eDp5\r\n\r\n', 400),
 ('trailer-lowercase-host-after-allowed', 'POST /x HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Checksum: 1\r\nhost: evil.example\r\n\r\n', 400),
]
# What an untrusted peer's forwarding headers must leave as they are.
UNTOUCHED = {'REMOTE_ADDR':'127.0.0.1','wsgi.url_scheme':'http','HTTP_HOST':'example.com','SERVER_NAME':'example.com','SERVER_PORT':'80'}
valid = [
 # (name, bytes, expect-dict, keepAlive)
 ('get-simple', 'GET /a HTTP/1.1\r\n'+H+'\r\n', {'REQUEST_METHOD':'GET','PATH_INFO':'/a','QUERY_STRING':'','HTTP_HOST':'example.com','SERVER_NAME':'example.com','SERVER_PORT':'80','SERVER_PROTOCOL':'HTTP/1.1','body':''}),
 ('get-query', 'GET /a?b=1&c=%20 HTTP/1.1\r\n'+H+'\r\n', {'PATH_INFO':'/a','QUERY_STRING':'b=1&c=%20'}),
 ('get-query-with-question-mark', 'GET /a?b=c?d HTTP/1.1\r\n'+H+'\r\n', {'PATH_INFO':'/a','QUERY_STRING':'b=c?d'}),
 ('post-content-length', 'POST /a%20b HTTP/1.1\r\n'+H+'Content-Length: 5\r\n\r\nhello', {'REQUEST_METHOD':'POST','PATH_INFO':'/a b','CONTENT_LENGTH':'5','body':'hello'}),
 ('post-cl-leading-zeros', 'POST /a HTTP/1.1\r\n'+H+'Content-Length: 005\r\n\r\nhello', {'body':'hello'}),
 ('post-cl-zero', 'POST /a HTTP/1.1\r\n'+H+'Content-Length: 0\r\n\r\n', {'body':''}),
 ('post-chunked', 'POST /a HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n', {'body':'hello world'}),
 ('post-chunked-uppercase', 'POST /a HTTP/1.1\r\n'+H+'Transfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n', {'body':'hello'}),
 ('post-chunked-hex-size', 'POST /a HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n', {'body':'0123456789'}),
 ('post-chunked-leading-zero-size', 'POST /a HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n005\r\nhello\r\n0000\r\n\r\n', {'body':'hello'}),
 ('post-chunked-extension', 'POST /a HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0\r\n\r\n', {'body':'hello'}),
 ('post-chunked-quoted-extension', 'POST /a HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5;name="v \\" al"\r\nhello\r\n0\r\n\r\n', {'body':'hello'}),
 ('post-chunked-trailer', 'POST /a HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n', {'body':'hello'}),
 ('post-binary-body', 'POST /a HTTP/1.1\r\n'+H+'Content-Length: 6\r\n\r\n\x00\r\n\xff\r\x0a', {'body':'\x00\r\n\xff\r\n'}),
 ('http10-no-host', 'GET /a HTTP/1.0\r\n\r\n', {'SERVER_PROTOCOL':'HTTP/1.0','PATH_INFO':'/a'}, False),
 ('http10-keep-alive', 'GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', {'SERVER_PROTOCOL':'HTTP/1.0','HTTP_CONNECTION':'keep-alive'}),
 ('connection-close', 'GET /a HTTP/1.1\r\n'+H+'Connection: close\r\n\r\n', {'HTTP_CONNECTION':'close'}, False),
 ('host-with-port', 'GET /a HTTP/1.1\r\nHost: example.com:8080\r\n\r\n', {'SERVER_NAME':'example.com','SERVER_PORT':'8080'}),
 ('host-ipv6', 'GET /a HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n', {'SERVER_NAME':'[::1]','SERVER_PORT':'8080'}),
 ('host-empty', 'GET /a HTTP/1.1\r\nHost: \r\n\r\n', {'HTTP_HOST':''}),
 ('host-uppercase-name', 'GET /a HTTP/1.1\r\nHOST: example.com\r\n\r\n', {'HTTP_HOST':'example.com'}),
 ('absolute-form', 'GET http://other.example/p?q=1 HTTP/1.1\r\n'+H+'\r\n', {'PATH_INFO':'/p','QUERY_STRING':'q=1','HTTP_HOST':'other.example','SERVER_NAME':'other.example'}),
 ('absolute-form-no-path', 'GET http://other.example:81 HTTP/1.1\r\n'+H+'\r\n', {'PATH_INFO':'/','SERVER_NAME':'other.example','SERVER_PORT':'81'}),
 ('underscore-header-dropped', 'GET /a HTTP/1.1\r\n'+H+'X_Forwarded_For: 6.6.6.6\r\nX-Dash: 1\r\n\r\n', {'HTTP_X_DASH':'1','HTTP_X_FORWARDED_FOR':None}),
 ('repeated-headers-joined', 'GET /a HTTP/1.1\r\n'+H+'X-Multi: 1\r\nX-Multi: 2\r\nx-multi: 3\r\n\r\n', {'HTTP_X_MULTI':'1, 2, 3'}),
 ('repeated-cookies-joined', 'GET /a HTTP/1.1\r\n'+H+'Cookie: a=1\r\nCookie: b=2\r\n\r\n', {'HTTP_COOKIE':'a=1; b=2'}),
 ('pct-encoded-slash', 'GET /a%2Fb HTTP/1.1\r\n'+H+'\r\n', {'PATH_INFO':'/a/b','RAW_URI':'/a%2Fb'}),
 ('pct-encoded-ff', 'GET /a%FFb HTTP/1.1\r\n'+H+'\r\n', {'PATH_INFO':'/a\xffb'}),
 ('pct-encoded-nul', 'GET /a%00b HTTP/1.1\r\n'+H+'\r\n', {'PATH_INFO':'/a\x00b'}),
 ('pct-overlong-utf8-slash', 'GET /a%C0%AFb HTTP/1.1\r\n'+H+'\r\n', {'PATH_INFO':'/a\xc0\xafb'}),
 ('pct-utf8', 'GET /caf%C3%A9 HTTP/1.1\r\n'+H+'\r\n', {'PATH_INFO':'/caf\xc3\xa9'}),
 ('pct-malformed-kept', 'GET /a%zz HTTP/1.1\r\n'+H+'\r\n', {'PATH_INFO':'/a%zz'}),
 ('header-obs-text-value', 'GET /a HTTP/1.1\r\n'+H+'X-Latin: caf\xe9\r\n\r\n', {'HTTP_X_LATIN':'caf\xe9'}),
 ('header-tab-in-value', 'GET /a HTTP/1.1\r\n'+H+'X-Tab: a\tb\r\n\r\n', {'HTTP_X_TAB':'a\tb'}),
 ('header-ows-trimmed', 'GET /a HTTP/1.1\r\n'+H+'X-Ows: \t value \t\r\n\r\n', {'HTTP_X_OWS':'value'}),
 ('header-no-space-after-colon', 'GET /a HTTP/1.1\r\n'+H+'X-Tight:v\r\n\r\n', {'HTTP_X_TIGHT':'v'}),
 ('header-empty-value', 'GET /a HTTP/1.1\r\n'+H+'X-Empty:\r\n\r\n', {'HTTP_X_EMPTY':''}),
 ('content-type', 'POST /a HTTP/1.1\r\n'+H+'Content-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi', {'CONTENT_TYPE':'text/plain','CONTENT_LENGTH':'2','body':'hi'}),
 ('method-extension-token', 'M-SEARCH /a HTTP/1.1\r\n'+H+'\r\n', {'REQUEST_METHOD':'M-SEARCH'}),
 ('method-delete', 'DELETE /a HTTP/1.1\r\n'+H+'\r\n', {'REQUEST_METHOD':'DELETE'}),
 ('leading-empty-line', '\r\nGET /a HTTP/1.1\r\n'+H+'\r\n', {'PATH_INFO':'/a'}),
 ('get-with-body', 'GET /a HTTP/1.1\r\n'+H+'Content-Length: 3\r\n\r\nabc', {'REQUEST_METHOD':'GET','body':'abc'}),
 ('expect-100-continue', 'POST /a HTTP/1.1\r\n'+H+'Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello', {'HTTP_EXPECT':'100-continue','body':'hello'}),
 ('dot-segments', 'GET /a/./b/../c HTTP/1.1\r\n'+H+'\r\n', {'PATH_INFO':'/a/c'}),
 ('untrusted-forwarded-passthrough', 'GET /a HTTP/1.1\r\n'+H+'X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n\r\n', {'HTTP_X_FORWARDED_FOR':'6.6.6.6','HTTP_X_FORWARDED_PROTO':'https',**UNTOUCHED}),
 # Just inside the limits (LIMITS above).
 ('limit-request-line-at-limit', request_line_of(LINE)+H+'\r\n', {'RAW_URI':'/'+'a' * (LINE - len('GET / HTTP/1.1'))}),
 ('limit-request-fields-at-limit', 'GET /a HTTP/1.1\r\n'+fields_of(FIELDS)+'\r\n', {f'HTTP_X_F{FIELDS - 1}':str(FIELDS - 1)}),
 ('limit-request-field-size-at-limit', 'GET /a HTTP/1.1\r\n'+H+field_of(FIELD_SIZE)+'\r\n', {'HTTP_X_LONG':'v' * (FIELD_SIZE - len('X-Long: '))}),
 ('limit-request-body-at-limit', 'POST /a HTTP/1.1\r\n'+H+f'Content-Length: {BODY}\r\n\r\n'+'b' * BODY, {'body':'b' * BODY}),
 ('limit-request-body-chunked-at-limit', 'POST /a HTTP/1.1\r\n'+H+'Transfer-Encoding: chunked\r\n\r\n'+chunked('b' * BODY), {'body':'b' * BODY}),
 # From an untrusted peer (the corpus server trusts none) the forwarding
 # headers are passed through as HTTP_* and change nothing else.
 ('untrusted-x-forwarded-host-passthrough', 'GET /a HTTP/1.1\r\n'+H+'X-Forwarded-Host: evil.example:8443\r\n\r\n', {'HTTP_X_FORWARDED_HOST':'evil.example:8443',**UNTOUCHED}),
 ('untrusted-forwarded-rfc7239-passthrough', 'GET /a HTTP/1.1\r\n'+H+'Forwarded: for=6.6.6.6;proto=https;host=evil.example\r\n\r\n', {'HTTP_FORWARDED':'for=6.6.6.6;proto=https;host=evil.example',**UNTOUCHED}),
 ('untrusted-forwarded-ipv6-quoted-passthrough', 'GET /a HTTP/1.1\r\n'+H+'Forwarded: for="[2001:db8::1]:4711", for=6.6.6.6\r\n\r\n', {'HTTP_FORWARDED':'for="[2001:db8::1]:4711", for=6.6.6.6',**UNTOUCHED}),
 ('untrusted-xff-chain-passthrough', 'GET /a HTTP/1.1\r\n'+H+'X-Forwarded-For: 6.6.6.6, 7.7.7.7\r\nX-Forwarded-For: 8.8.8.8\r\n\r\n', {'HTTP_X_FORWARDED_FOR':'6.6.6.6, 7.7.7.7, 8.8.8.8',**UNTOUCHED}),
 # Conflicting scheme headers are refused only from a trusted peer.
 ('untrusted-conflicting-proto-passthrough', 'GET /a HTTP/1.1\r\n'+H+'X-Forwarded-Proto: https\r\nForwarded: proto=http\r\n\r\n', {'HTTP_X_FORWARDED_PROTO':'https','HTTP_FORWARDED':'proto=http',**UNTOUCHED}),
 ('untrusted-all-forwarding-headers', 'GET /a HTTP/1.1\r\n'+H+'X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\nForwarded: for=7.7.7.7;proto=https;host=evil2.example\r\n\r\n', {'HTTP_X_FORWARDED_FOR':'6.6.6.6','HTTP_X_FORWARDED_PROTO':'https','HTTP_X_FORWARDED_HOST':'evil.example','HTTP_FORWARDED':'for=7.7.7.7;proto=https;host=evil2.example',**UNTOUCHED}),
 # RFC 9112 §3.2.4: the server-wide OPTIONS; the front answers it itself.
 ('options-asterisk', 'OPTIONS * HTTP/1.1\r\n'+H+'\r\n', {}),
]
# What nginx 1.22 does instead of refusing: it accepts these and forwards
# its own, unambiguous re-framing of them (HTTP/1.1, Content-Length), so the
# app sees one well-formed request. 0: nginx answers HTTP/0.9 (no status line).
NGINX_NORMALIZES = {
 'chunk-size-trailing-space': 200, 'chunk-ext-nul': 200, 'chunk-ext-bws': 200, 'chunk-ext-bad-token': 200,
 'chunk-bare-lf': 200, 'chunk-trailer-bare-lf': 200, 'bare-lf-everywhere': 200, 'bare-lf-request-line': 200,
 'bare-lf-one-header': 200, 'high-byte-in-name': 200, 'no-colon': 200, 'host-userinfo': 200, 'host-bad-port': 200,
 'absolute-form-ftp': 200, 'version-missing': 0, 'version-http12': 200, 'version-two-digit-minor': 200,
 'version-trailing-space': 200,
 # nginx drops a request's trailer section when it re-frames the body with Content-Length.
 'trailer-host': 200, 'trailer-content-length': 200, 'trailer-transfer-encoding': 200, 'trailer-authorization': 200,
 'trailer-lowercase-host-after-allowed': 200,
}
# Valid requests nginx refuses itself.
NGINX_REFUSES = {'host-empty': 400, 'pct-encoded-nul': 400, 'pct-malformed-kept': 400, 'options-asterisk': 400}

def nginx_environ(environ):
    """What a valid case's expected keys become through the nginx of nginx.ts,
    which rewrites these on every request it proxies (all else must survive):
    - Host: proxy_set_header Host defaults to $proxy_host, the upstream's
      name `portico`, so HTTP_HOST, SERVER_NAME and SERVER_PORT follow it;
    - Connection: cleared by proxy_set_header Connection "" (keep-alive
      upstreams), so HTTP_CONNECTION is absent;
    - the version: proxy_http_version 1.1, so SERVER_PROTOCOL is HTTP/1.1;
    - Expect: nginx answers 100-continue itself and does not forward it.
    (Absolute-form targets reach portico in origin-form, but PATH_INFO and
    QUERY_STRING are the same, and no case expects RAW_URI for one.)"""
    rewrites = {'HTTP_HOST': 'portico', 'SERVER_NAME': 'portico', 'SERVER_PORT': '80',
                'HTTP_CONNECTION': None, 'SERVER_PROTOCOL': 'HTTP/1.1', 'HTTP_EXPECT': None}
    return {k: rewrites[k] for k in environ if k in rewrites and rewrites[k] != environ[k]}
# Valid requests the front answers itself (the app must see nothing): the
# status, and the header fields the answer must carry.
FRONT_ANSWERS = {'options-asterisk': {'status': 200, 'headers': ['Allow']}}
import shutil
for d in ('invalid','valid'):
    shutil.rmtree(os.path.join(root,d), ignore_errors=True)
    os.makedirs(os.path.join(root,d))
open(os.path.join(root, 'limits.json'), 'w').write(json.dumps(LIMITS) + '\n')
assert len(set(x[0] for x in invalid)) == len(invalid)
assert len(set(x[0] for x in valid)) == len(valid)
for i, case in enumerate(invalid, 1):
    name, data, status = case[:3]
    base = os.path.join(root, 'invalid', f'{i:03d}-{name}')
    open(base + '.http', 'wb').write(data.encode('latin-1'))
    exp = {'status': status}
    if len(case) > 3: exp['headReachesApp'] = True
    if name in NGINX_NORMALIZES: exp['viaNginx'] = NGINX_NORMALIZES[name]
    open(base + '.expect.json', 'w').write(json.dumps(exp) + '\n')
for i, case in enumerate(valid, 1):
    name, data, environ = case[:3]
    base = os.path.join(root, 'valid', f'{i:03d}-{name}')
    open(base + '.http', 'wb').write(data.encode('latin-1'))
    exp = dict(environ)
    if len(case) > 3 and case[3] is False: exp['keepAlive'] = False
    if name in NGINX_REFUSES: exp['viaNginx'] = NGINX_REFUSES[name]
    if name in FRONT_ANSWERS: exp['frontAnswers'] = FRONT_ANSWERS[name]
    if nginx_environ(environ): exp['viaNginxEnviron'] = nginx_environ(environ)
    # json with ensure_ascii keeps latin-1 code points exact
    open(base + '.expect.json', 'w').write(json.dumps(exp) + '\n')
print(f'{len(invalid)} invalid, {len(valid)} valid cases')
