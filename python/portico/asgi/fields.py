"""Checks on the status and fields an ASGI application sends.

A status or field that breaks these would let the application inject lines
into the response (response splitting) or take over what the server owns
(framing, the connection), so the cycle treats them as violations, not as
something to pass on. The grammar is rfc9110.py's, applied to the latin-1
reading of the bytes, which is exactly what goes on the wire.
"""
from __future__ import annotations

from ..rfc9110 import DIGITS, FIELD_VALUE_FORBIDDEN, HOP_BY_HOP, TOKEN
from .errors import ASGIViolation


def check_status(status) -> int:
    # www spec, "Response Start": status is an int. RFC 9112 4: three digits.
    # A 1xx is no final response: the client would wait on for one (103
    # has its own message, http.response.early_hint; 101 is the WebSocket
    # scope's business).
    if type(status) is not int:
        raise ASGIViolation("the status must be an int, got %s" % type(status).__name__)
    if 100 <= status < 200:
        raise ASGIViolation("status %d is informational, not a final response "
                            "(103 goes as http.response.early_hint)" % status)
    if not 200 <= status <= 999:
        raise ASGIViolation("invalid status %d (expected 200-999)" % status)
    return status


def check_fields(headers, trailers: bool = False, announces_trailers: bool = False):
    """The checked (name, value) list and the Content-Length it declares
    (or None). ``trailers``: the fields of http.response.trailers;
    ``announces_trailers``: a start with trailers=True, which may name them
    in a Trailer field."""
    what = "trailer" if trailers else "header"
    if headers is None:
        return [], None
    try:
        items = list(headers)
    except TypeError:
        raise ASGIViolation("%ss must be an iterable of [name, value] pairs, got %s"
                            % (what, type(headers).__name__)) from None
    checked = []
    declared = None
    for item in items:
        lower = None
        if type(item) is tuple:
            try:
                lower = _CHECKED_FIELDS.get(item)
            except TypeError:
                pass  # holds something unhashable: _check_field says what
        if lower is None:
            lower = _check_field(item, what)
            if lower == "transfer-encoding":
                # www spec, "Response Start": an application may send
                # Transfer-Encoding, and the server must ignore it; the
                # front frames the body itself. (Never in a trailer: RFC
                # 9110 6.5.1 keeps framing fields out of trailers.)
                if trailers:
                    raise ASGIViolation("trailer %r is a framing field (RFC 9110 6.5.1)" % item[0])
                continue
            if lower == "trailer":
                # Extensions, "HTTP Trailers": the application names its
                # trailers in a Trailer field (RFC 9110 6.6.2), which only a
                # start with trailers=True may carry; elsewhere it would
                # promise fields that never come.
                if trailers:
                    raise ASGIViolation("a trailer section cannot hold a Trailer field")
                if not announces_trailers:
                    raise ASGIViolation("header %r announces trailers, but http.response.start "
                                        "has no trailers=True" % item[0])
        if lower == "content-length":
            # RFC 9110 8.6: one decimal length; the same value repeated is
            # tolerated (as the front does), differing ones are not.
            if trailers:
                raise ASGIViolation("trailer %r is a framing field (RFC 9110 6.5.1)" % item[0])
            value = item[1].decode("latin-1").strip()
            if DIGITS.fullmatch(value) is None or declared not in (None, int(value)):
                raise ASGIViolation("bad Content-Length header %r" % item[1])
            declared = int(value)
        checked.append(item if type(item) is tuple else (item[0], item[1]))
    return checked, declared


def _check_field(item, what: str) -> str:
    """Checks one field; returns its name in lower case."""
    if type(item) not in (tuple, list) or len(item) != 2:
        raise ASGIViolation("each %s must be a [name, value] pair, got %r" % (what, item))
    name, value = item
    if not isinstance(name, bytes) or not isinstance(value, bytes):
        raise ASGIViolation("%s name and value must be bytes, got %r" % (what, tuple(item)))
    text = name.decode("latin-1")
    if TOKEN.fullmatch(text) is None:
        # Pseudo-fields (":status") fail here too: www spec, "Response
        # Start": they must not be present.
        raise ASGIViolation("malformed %s name %r" % (what, name))
    if FIELD_VALUE_FORBIDDEN.search(value.decode("latin-1")) is not None:
        raise ASGIViolation("%s %s has a value with a control character (CR, LF, NUL...): %r"
                            % (what, text, value))
    lower = text.lower()
    if lower in ("transfer-encoding", "trailer"):
        return lower  # check_fields decides, by where the field is
    if lower in HOP_BY_HOP:
        raise ASGIViolation("hop-by-hop %s %s is the server's to set (RFC 9110 7.6.1)" % (what, text))
    if type(item) is tuple and len(_CHECKED_FIELDS) < _CHECKED_LIMIT:
        _CHECKED_FIELDS[item] = lower
    return lower


def check_handshake_fields(headers) -> list:
    """websocket.accept's ``headers``, added to the 101 response: checked as
    response fields, and none of those the handshake owns. The front's
    WebSocket library writes Upgrade, Connection and the Sec-WebSocket-*
    fields itself (RFC 6455 4.2.2), the subprotocol from ``subprotocol``
    (www spec, "Accept": "must not include a header named
    sec-websocket-protocol"); a 1xx has no content, so no framing fields
    (RFC 9110 8.6, RFC 9112 6.1)."""
    if headers is None:
        return []
    try:
        items = list(headers)
    except TypeError:
        raise ASGIViolation("websocket.accept headers must be an iterable of [name, value] pairs, got %s"
                            % type(headers).__name__) from None
    checked = []
    for item in items:
        lower = _check_field(item, "header")
        if lower.startswith("sec-websocket-") or lower in ("content-length", "transfer-encoding", "trailer"):
            raise ASGIViolation("websocket.accept header %r is the handshake's own, not the application's%s"
                                % (item[0], " (use subprotocol)" if lower == "sec-websocket-protocol" else ""))
        checked.append((item[0], item[1]))
    return checked


def check_links(links) -> list:
    """http.response.early_hint's ``links`` ("Early Hints" extension: an
    iterable of Link field values, RFC 8288) as ``link`` fields."""
    if links is None or isinstance(links, (bytes, str)):
        raise ASGIViolation("early hint links must be an iterable of bytes, got %s"
                            % type(links).__name__)
    fields = []
    for link in links:
        if not isinstance(link, bytes):
            raise ASGIViolation("early hint links must be bytes, got %s" % type(link).__name__)
        if FIELD_VALUE_FORBIDDEN.search(link.decode("latin-1")) is not None:
            raise ASGIViolation("early hint link has a control character (CR, LF, NUL...): %r" % link)
        fields.append((b"link", link))
    return fields


# As in executor.py: an application sends mostly the same few fields,
# request after request, so each is checked once and remembered; the first
# _CHECKED_LIMIT distinct ones are kept, values that change with every
# request (Set-Cookie, ETag) go on being checked each time.
_CHECKED_LIMIT = 512
_CHECKED_FIELDS = {}  # (name, value) -> lower-case name
