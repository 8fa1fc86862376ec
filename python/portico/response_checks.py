"""start_response's checks of what an application passes it (PEP 3333 "The
start_response() Callable"), the grammar taken from rfc9110.py.

A status or header that breaks them would let an application inject header
lines into the response (response splitting), so each is a WSGIViolation,
never passed on.
"""
from __future__ import annotations

from .errors import WSGIViolation
from .rfc9110 import DIGITS, FIELD_VALUE_FORBIDDEN, HOP_BY_HOP, STATUS, TOKEN

# An application sends the same few statuses and mostly the same header
# items, request after request: each is checked once and remembered (a
# hello-world response's checks: 2.9 us -> 0.9 us; its whole path through
# the worker, measured in-process without I/O: 14.5 us -> 13.0 us). The first
# _CHECKED_LIMIT distinct ones are kept; values that change with every
# request (Set-Cookie, ETag) just go on being checked each time.
_CHECKED_LIMIT = 512
_CHECKED_STATUSES = {}   # status str -> (code, reason)
_CHECKED_FIELDS = {}     # (name, value) -> name.lower()


def check_status(status):
    """PEP 3333 status -> (code, reason); a WSGIViolation when malformed."""
    if type(status) is str:
        known = _CHECKED_STATUSES.get(status)
        if known is not None:
            return known
    if not isinstance(status, str):
        raise WSGIViolation("status must be a str, got %s" % type(status).__name__)
    match = STATUS.fullmatch(status)
    if match is None or int(match.group(1)) < 100:
        raise WSGIViolation("malformed status %r (expected 'NNN Reason', no control characters)" % status)
    checked = int(match.group(1)), match.group(2) or ""
    if type(status) is str and len(_CHECKED_STATUSES) < _CHECKED_LIMIT:
        _CHECKED_STATUSES[status] = checked
    return checked

def check_headers(headers):
    """PEP 3333 headers -> (a checked copy, the Content-Length or None)."""
    # PEP 3333 "The start_response() Callable": a list of (name, value)
    # tuples of str; copied, so later changes by the application are
    # not sent unchecked.
    if type(headers) is not list:
        raise WSGIViolation("headers must be a list, got %s" % type(headers).__name__)
    declared = None
    checked = []
    for item in headers:
        lower = None
        if type(item) is tuple:
            try:
                lower = _CHECKED_FIELDS.get(item)
            except TypeError:
                pass  # holds something unhashable: check_field says what
        if lower is None:
            lower = check_field(item)
        if lower == "content-length":
            # RFC 9110 8.6: one decimal length; repeating the same value
            # is tolerated (as the front does), differing ones are not.
            value = item[1]
            if DIGITS.fullmatch(value.strip()) is None or declared not in (None, int(value)):
                raise WSGIViolation("bad Content-Length header %r" % value)
            declared = int(value)
        checked.append(item)
    return checked, declared


def check_field(item) -> str:
    """Checks one header item; returns its name in lower case."""
    if type(item) is not tuple or len(item) != 2:
        raise WSGIViolation("each header must be a (name, value) tuple, got %r" % (item,))
    name, value = item
    if not isinstance(name, str) or not isinstance(value, str):
        raise WSGIViolation("header name and value must be str, got %r" % (item,))
    if TOKEN.fullmatch(name) is None:
        raise WSGIViolation("malformed header name %r" % name)
    if FIELD_VALUE_FORBIDDEN.search(value) is not None:
        raise WSGIViolation("header %s has a value with a control or non-latin-1 character: %r"
                            % (name, value))
    lower = name.lower()
    if lower in HOP_BY_HOP:
        raise WSGIViolation("hop-by-hop header %s is the server's to set (PEP 3333)" % name)
    if len(_CHECKED_FIELDS) < _CHECKED_LIMIT:
        _CHECKED_FIELDS[item] = lower
    return lower

