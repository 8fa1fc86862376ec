"""The texts a failed request leaves in the log: the ERROR frame's text, or
stderr's with --debug. The debug page (debug_page.py) shows the same request
line.
"""
from __future__ import annotations

import os

from .errors import WSGIViolation

_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))


def request_uri(environ: dict) -> str:
    """The request target for logs: the latin-1 environ strings read back as utf-8."""
    uri = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING")
    if query:
        uri += "?" + query
    return uri.encode("latin-1", "replace").decode("utf-8", "backslashreplace")


def request_line(environ: dict) -> str:
    return "%s %s" % (environ.get("REQUEST_METHOD", "?"), request_uri(environ))


def violation_text(environ: dict, message: str) -> str:
    return "WSGI protocol violation in %s: %s" % (request_line(environ), message)


def error_text(environ: dict, error, close_error) -> str:
    # Loaded on the first error, not at start: traceback (with linecache and
    # tokenize) costs every worker ~0.6 MiB that most never need.
    import traceback
    exc = error[1]
    if isinstance(exc, WSGIViolation):
        text = violation_text(environ, str(exc))
        # Raised by start_response or write inside the application: where
        # it happened is worth showing. Raised by the executor while
        # sending the result: the message says it all.
        if any(not _is_runtime_frame(frame) for frame, _ in traceback.walk_tb(error[2])):
            text += "\n" + "".join(traceback.format_exception(*error))
    else:
        text = "Error handling request %s\n%s" % (
            request_line(environ), "".join(traceback.format_exception(*error)))
    if close_error is not None:
        text += "\nclose() of the response iterable failed as well:\n"
        text += "".join(traceback.format_exception(*close_error))
    return text.rstrip("\n")


def _is_runtime_frame(frame) -> bool:
    return os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _RUNTIME_DIR
