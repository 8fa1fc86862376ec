"""The bits of HTTP grammar that start_response checks, as named patterns.

A status or header that breaks these would let an application inject header
lines into the response (response splitting), so they are PEP 3333
violations, not something to pass on.
"""
from __future__ import annotations

import re

# RFC 9110 5.6.2:
#   token = 1*tchar
#   tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
#           "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

# RFC 9110 5.5:
#   field-value = *field-content
#   field-vchar = VCHAR / obs-text        (obs-text = %x80-FF)
# with SP and HTAB allowed between. What matters here is what must NOT be in
# a value: CR, LF, NUL and every other control character but HTAB, and (PEP
# 3333 "Unicode Issues") any code point a latin-1 byte cannot carry.
FIELD_VALUE_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]|[^\x00-\xff]")

# RFC 9110 8.6:
#   Content-Length = 1*DIGIT
# (ASCII digits only: str.isdigit() would take "²" too.)
DIGITS = re.compile(r"[0-9]+")

# RFC 9112 4:
#   status-line   = HTTP-version SP status-code SP [ reason-phrase ]
#   status-code   = 3DIGIT
#   reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
# PEP 3333 hands the application "status-code SP reason-phrase"; a bare
# "NNN" is tolerated as wsgiref.validate does (it only warns).
STATUS = re.compile(r"([0-9]{3})(?: ([\t\x20-\x7e\x80-\xff]*))?")

# RFC 9110 7.6.1 (Connection and the fields it names), 11.7.1-2
# (Proxy-Authenticate, Proxy-Authorization), 10.1.4 (TE), 6.6.2 (Trailer),
# RFC 9112 6.1 (Transfer-Encoding), RFC 9110 7.8 (Upgrade), RFC 7230 A.1.2
# (Keep-Alive). PEP 3333 "Other HTTP Features": the server owns these.
HOP_BY_HOP = frozenset((
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade",
))

# RFC 9110 6.4.1: no content in 1xx, 204 and 304 responses, so no computed
# Content-Length either.
NO_CONTENT_STATUS = frozenset([204, 304] + list(range(100, 200)))
