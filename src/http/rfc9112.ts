/**
 * The parts of the HTTP/1.1 grammar the front checks itself, after Node's
 * parser (llhttp) has accepted a request: each rule a named regular
 * expression with its ABNF beside it, as waitress's rfc7230.py does.
 * RFC 9110 (semantics), RFC 9112 (HTTP/1.1 messages), RFC 3986 (URIs),
 * RFC 7239 (Forwarded).
 */

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
//         "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA        (RFC 9110 §5.6.2)
const TCHAR = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]";

// token = 1*tchar                                           (RFC 9110 §5.6.2)
export const TOKEN = new RegExp(`^${TCHAR}+$`);

// field-name = token                                        (RFC 9110 §5.1)
export const FIELD_NAME = TOKEN;

// field-value   = *field-content                            (RFC 9110 §5.5)
// field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
// field-vchar   = VCHAR / obs-text
// obs-text      = %x80-FF
// Node hands values over trimmed of OWS and decoded as latin-1, so what is
// left to refuse is any CTL other than HTAB (NUL, CR, LF, DEL...).
export const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

// Content-Length = 1*DIGIT                                  (RFC 9110 §8.6)
export const CONTENT_LENGTH = /^[0-9]+$/;

// transfer-coding = token *( OWS ";" OWS transfer-parameter )   (RFC 9110 §10.1.4)
// The only coding the front decodes is chunked (RFC 9112 §7.1).
export const CHUNKED = 'chunked';

// HTTP-version = HTTP-name "/" DIGIT "." DIGIT              (RFC 9112 §2.3)
// Node reports it as "MAJOR.MINOR"; a request line with no version at all
// (HTTP/0.9's "GET /") comes out as "0.9".
export const HTTP_VERSION = /^([0-9])\.([0-9])$/;

// IPv4address = dec-octet "." dec-octet "." dec-octet "." dec-octet  (RFC 3986 §3.2.2)
const DEC_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const IPV4_ADDRESS = `${DEC_OCTET}(?:\\.${DEC_OCTET}){3}`;

// IP-literal = "[" ( IPv6address / IPvFuture ) "]"          (RFC 3986 §3.2.2)
// Loosely: hex digits, colons and dots (an embedded IPv4 tail), or IPvFuture.
const IP_LITERAL = '\\[(?:[0-9A-Fa-f:.]+|[vV][0-9A-Fa-f]+\\.[A-Za-z0-9\\-._~!$&\'()*+,;=:]+)\\]';

// reg-name   = *( unreserved / pct-encoded / sub-delims )   (RFC 3986 §3.2.2)
// unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"
// sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "="
const REG_NAME = "(?:[A-Za-z0-9\\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*";

// Host = uri-host [ ":" port ]                              (RFC 9110 §7.2)
// uri-host = IP-literal / IPv4address / reg-name; port = *DIGIT
// An empty value is allowed: the target URI may have no authority.
export const HOST = new RegExp(`^(?:${IP_LITERAL}|${IPV4_ADDRESS}|${REG_NAME})(?::[0-9]*)?$`);

// absolute-form = absolute-URI                              (RFC 9112 §3.2.2)
// absolute-URI  = scheme ":" hier-part [ "?" query ]        (RFC 3986 §4.3)
// Only http and https URIs name something this server can serve; their
// authority is the part between "//" and the first "/" or "?".
export const ABSOLUTE_HTTP_URI = /^(https?):\/\/([^/?#]*)([/?].*)?$/i;
export const SCHEME_PREFIX = /^[A-Za-z][A-Za-z0-9+.-]*:/;

// asterisk-form = "*", only for a server-wide OPTIONS       (RFC 9112 §3.2.4)
export const ASTERISK_FORM = '*';

// authority-form = uri-host ":" port, only for CONNECT      (RFC 9112 §3.2.3)
export const AUTHORITY_FORM = new RegExp(`^(?:${IP_LITERAL}|${IPV4_ADDRESS}|${REG_NAME}):[0-9]+$`);

// forwarded-element = [ forwarded-pair ] *( ";" [ forwarded-pair ] )   (RFC 7239 §4)
// forwarded-pair    = token "=" value
// value             = token / quoted-string
// quoted-string     = DQUOTE *( qdtext / quoted-pair ) DQUOTE           (RFC 9110 §5.6.4)
export const FORWARDED_PAIR = new RegExp(`^\\s*(${TCHAR}+)=(${TCHAR}+|"(?:[\\t\\x20\\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t\\x20-\\x7e\\x80-\\xff])*")\\s*$`);
