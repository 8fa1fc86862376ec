"""The log texts of a failed ASGI request, worded as the WSGI executor's
(executor.py): "<kind> in METHOD /uri?query: what", then the traceback."""
from __future__ import annotations

import os
import sys

from .errors import ASGIViolation


def request_line(scope: dict) -> str:
    """METHOD and the request target for logs: the decoded path (root path
    included) and the query string read as UTF-8."""
    uri = scope.get("path", "")
    query = scope.get("query_string")
    if query:
        uri += "?" + query.decode("utf-8", "backslashreplace")
    # A websocket scope has no method: its handshake is a GET, logged as what it asked for.
    method = scope.get("method") or ("WebSocket" if scope.get("type") == "websocket" else "?")
    return "%s %s" % (method, uri)


def violation_text(scope: dict, message: str) -> str:
    return "ASGI protocol violation in %s: %s" % (request_line(scope), message)


def error_text(scope: dict, error) -> str:
    """The text for an exception the application raised (``error`` is an
    exc_info triple), its traceback from the application's first frame."""
    # Loaded on the first error only (executor._error_text: traceback
    # costs a worker ~0.6 MiB that most never need).
    import traceback
    exc_type, exc, tb = error
    # The cycle's own frames say nothing to the user: those around the
    # application's call, and (for a violation) those of the check in send().
    while tb is not None and _is_ours(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    if isinstance(exc, ASGIViolation):
        text = violation_text(scope, str(exc))
        frames = traceback.extract_tb(tb)
        while frames and _is_ours(frames[-1].filename):
            frames.pop()
        if frames:
            # Raised by send() and let through: where the application
            # sent the message is worth showing.
            text += "\nTraceback (most recent call last):\n%s%s" % (
                "".join(traceback.format_list(frames)),
                "".join(traceback.format_exception_only(exc_type, exc)))
    else:
        text = "Error handling request %s\n%s" % (
            request_line(scope), "".join(traceback.format_exception(exc_type, exc, tb)))
    return text.rstrip("\n")


def app_traceback(error) -> str:
    """The formatted traceback of ``error`` from the application's first
    frame on (this package's frames around the call say nothing to the user)."""
    import traceback  # see error_text
    exc_type, exc, tb = error
    while tb is not None and _is_ours(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return "".join(traceback.format_exception(exc_type, exc, tb))


def _is_ours(filename: str) -> bool:
    return os.path.dirname(filename) == _HERE


_HERE = os.path.dirname(os.path.abspath(__file__))


def stderr_log(level: str, text: str) -> None:
    """The default log: stderr, which the front logs line by line under the
    worker's pid, at level error; so debug lines are left out."""
    if level != "debug":
        sys.stderr.write(text + "\n")
