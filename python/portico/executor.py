"""Runs one request through a WSGI application: PEP 3333 and nothing else.

In the spirit of wsgiref.handlers.BaseHandler, the executor knows nothing of
fd 3 or frames. A transport object carries the bytes:

    transport.input                       the wsgi.input object
    transport.cancelled                   True once the client is gone
    transport.send_head(code, reason, headers)
    transport.send_body(data, flush)      flush: a streaming chunk, push it out now
    transport.send_file(path, offset, length)   length None = to the end of the file
    transport.finish(abort=False)         the response is complete (abort: it is
                                          broken, the connection must not carry another)
    transport.fail(status, text)          the request failed; terminal

send_body raises ClientDisconnected once the client is gone. The channel's
transport turns these into frames; the tests use an in-memory one.

With debug (--debug) an error raised before the response head went out is
answered with debug_page's HTML page instead of fail(); the log text fail()
would have carried goes to sys.stderr, which the front logs under the
worker's pid.
"""
from __future__ import annotations

import sys

from .codec import MAX_CHUNK
from .errors import ClientDisconnected, WSGIViolation
from .file_wrapper import FileWrapper, sendable_file
from .rfc9110 import DIGITS, FIELD_VALUE_FORBIDDEN, HOP_BY_HOP, NO_CONTENT_STATUS, STATUS, TOKEN


class Executor:
    def __init__(self, app, multithread: bool = False, multiprocess: bool = True,
                 debug: bool = False) -> None:
        self.app = app
        # Imported only with --debug: debug_page needs request_uri from here.
        self._render_page = None
        if debug:
            from .debug_page import render_error_page
            self._render_page = render_error_page
        # PEP 3333 "environ Variables": the wsgi.* keys that are the same for
        # every request of this worker.
        self._wsgi_keys = {
            "wsgi.version": (1, 0),
            "wsgi.multithread": multithread,
            "wsgi.multiprocess": multiprocess,
            "wsgi.run_once": False,
            # The front delimits the body (REQUEST_END), so read() with no
            # size is safe (the wsgi.input_terminated proposal adopted by
            # mod_wsgi and gunicorn).
            "wsgi.input_terminated": True,
            "wsgi.file_wrapper": FileWrapper,
        }

    def handle(self, environ: dict, transport) -> None:
        """Runs the application for one request. ``environ`` is the fresh dict
        decoded from the REQUEST block; it becomes the application's environ."""
        environ.update(self._wsgi_keys)
        if "wsgi.url_scheme" not in environ:
            environ["wsgi.url_scheme"] = "http"
        environ["wsgi.input"] = transport.input
        environ["wsgi.errors"] = sys.stderr
        response = Response(environ, transport)
        result = None
        error = None
        close_error = None
        try:
            result = self.app(environ, response.start_response)
            response.send_result(result)
        except Exception:
            error = sys.exc_info()
        finally:
            # PEP 3333 "Specification Details": close() is called on every
            # way out: normal end, an error, a client that went away. Its own
            # failure is an application error like any other.
            close = getattr(result, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    close_error = sys.exc_info()
        if response.file is not None:
            # After close(), which may have taken the file's name away.
            try:
                if error is None and close_error is None:
                    response.send_file()
            except Exception:
                error = sys.exc_info()
            finally:
                response.release_file()
        if transport.cancelled:
            # CANCEL: nobody is left to read an error page or a log-worthy
            # traceback; the front only needs to know the stream is over.
            transport.finish(abort=True)
            return
        if error is None and close_error is not None:
            error, close_error = close_error, None
        if error is None and response.violation is not None:
            # The application caught the WSGIViolation start_response raised
            # and carried on: the response is still not what it asked for.
            text = _violation_text(environ, response.violation)
            violation = WSGIViolation(response.violation)
            if not self._send_error_page(environ, transport, response, text,
                                         (WSGIViolation, violation, None), None):
                transport.fail(500, text)
            return
        if error is not None:
            text = _error_text(environ, error, close_error)
            if not self._send_error_page(environ, transport, response, text, error, close_error):
                transport.fail(500, text)
            return
        transport.finish(abort=response.incomplete or response.overflowed)

    def _send_error_page(self, environ, transport, response, log_text, error, close_error) -> bool:
        """--debug: answers with the error page; False when fail() must
        report the error instead (no --debug, or a head already sent: the
        front then aborts the connection)."""
        if self._render_page is None or response.head_sent:
            return False
        try:
            page = self._render_page(error, environ, close_error).encode("utf-8", "backslashreplace")
        except Exception:
            import traceback  # see _error_text
            sys.stderr.write("portico: the --debug error page failed to render; the plain 500 goes out\n%s"
                             % traceback.format_exc())
            return False
        # The ERROR frame is terminal (the front would send its own 500), so
        # the report it would have carried goes to stderr instead, which the
        # front logs line by line at level error under this worker's pid.
        sys.stderr.write(log_text + "\n")
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page)))]
        try:
            transport.send_head(500, "Internal Server Error", headers)
            if environ.get("REQUEST_METHOD") != "HEAD":
                transport.send_body(page, False)
        except ClientDisconnected:
            transport.finish(abort=True)
            return True
        transport.finish()
        return True


class Response:
    """The response side of one request: start_response, write, and sending
    the returned iterable."""

    __slots__ = (
        "environ", "transport", "code", "reason", "headers", "head_sent",
        "used_write", "declared", "remaining", "violation", "incomplete", "overflowed", "file",
    )

    def __init__(self, environ: dict, transport) -> None:
        self.environ = environ
        self.transport = transport
        self.code = None        # None until start_response succeeded
        self.reason = ""
        self.headers = None
        self.head_sent = False
        self.used_write = False
        # The application's Content-Length, and the body bytes still owed under it; or None.
        self.declared = None
        self.remaining = None
        self.violation = None
        self.incomplete = False
        # More body than the Content-Length: cut there, and the connection closed.
        self.overflowed = False
        # (SendableFile, length) put aside by _send_file until close() has run.
        self.file = None

    # ------------------------------------------------ PEP 3333 callables

    def start_response(self, status, headers, exc_info=None):
        if exc_info:
            try:
                if self.head_sent:
                    # PEP 3333 "The start_response() Callable": too late to
                    # change the status; re-raise so the error surfaces (the
                    # front then aborts the connection).
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # PEP 3333: avoid a traceback <-> frame cycle
        elif self.code is not None:
            self._violate("start_response was called a second time without exc_info")
        code, reason = self._check_status(status)
        headers, declared = self._check_headers(headers)
        self.code = code
        self.reason = reason
        self.headers = headers
        self.declared = declared
        self.remaining = declared
        return self.write

    def write(self, data) -> None:
        # PEP 3333 "The write() Callable": the imperative API for legacy
        # applications. Its data must go out before write() returns or be
        # buffered for transmission, so it is flushed like a streamed chunk.
        if not isinstance(data, bytes):
            self._violate("write() was given a %s, expected bytes" % type(data).__name__)
        self.used_write = True
        if data:
            self._send(data, True)

    # ----------------------------------------------- the returned iterable

    def send_result(self, result) -> None:
        if isinstance(result, (list, tuple)):
            self._send_sequence(result)
        elif type(result) is FileWrapper and self._send_file(result):
            pass
        else:
            self._send_iterable(result)
        self._complete()

    def _send_sequence(self, chunks) -> None:
        # The whole body is already in memory: no producer to wait for, so
        # no flush per chunk; the channel's batching decides.
        if self.code is None:
            raise WSGIViolation("start_response was not called")
        for chunk in chunks:
            if not isinstance(chunk, bytes):
                raise WSGIViolation("the response list holds a %s, expected bytes" % type(chunk).__name__)
        total = sum(map(len, chunks))
        if (not self.head_sent and not self.used_write and self.remaining is None
                and self.code not in NO_CONTENT_STATUS):
            # PEP 3333 "Handling the Content-Length Header": the length of a
            # body known up front can be computed (wsgiref does so for
            # one-element lists); it spares the front chunked encoding.
            self.headers.append(("Content-Length", str(total)))
            self.remaining = total
        if total == 0:
            return
        if len(chunks) == 1:
            self._send(chunks[0], False)
        elif total <= MAX_CHUNK:
            self._send(b"".join(chunks), False)
        else:
            for chunk in chunks:
                if chunk:
                    self._send(chunk, False)
                    if self.overflowed:
                        return

    def _send_iterable(self, result) -> None:
        if result is None:
            raise WSGIViolation("the application returned None, not an iterable of bytes")
        if isinstance(result, (str, bytes, bytearray)):
            # An iterable, technically, of characters or ints: always a bug
            # (wsgiref.validate rejects it too).
            raise WSGIViolation("the application returned a %s, not an iterable of bytes "
                                "(return [body] instead)" % type(result).__name__)
        if not (hasattr(result, "__iter__") or hasattr(result, "__getitem__")):
            raise WSGIViolation("the application returned a %s, which is not iterable"
                                % type(result).__name__)
        for chunk in result:
            if not isinstance(chunk, bytes):
                raise WSGIViolation("the response iterable yielded a %s, expected bytes"
                                    % type(chunk).__name__)
            # PEP 3333 "Buffering and Streaming": an empty chunk is not a
            # reason to send the headers yet.
            if chunk:
                self._send(chunk, True)
                if self.overflowed:
                    # The response is settled: whatever else the iterable
                    # would produce is dropped, so stop asking for it
                    # (close() still follows, PEP 3333).
                    return

    def _send_file(self, wrapper) -> bool:
        """Takes a real regular file for send_file(); False when the wrapper
        must be iterated instead (PEP 3333 "Optional Platform-Specific File
        Handling")."""
        if self.code is None:
            return False
        found = sendable_file(wrapper)
        if found is None:
            return False
        if self.remaining is None:
            length = None  # to EOF: the front finds the size when it opens the file
        else:
            length = min(max(0, found.size - found.offset), self.remaining)
            self.remaining -= length
        self.file = (found, length)
        if not self.head_sent:
            self._send_head()
        return True

    def send_file(self) -> None:
        """Sends the file _send_file took, once the iterable's close() has run.

        The front opens a FILE frame's path only after this worker has moved
        on, and PEP 3333 has close() run right after the response, so a
        close() that deletes the file (NamedTemporaryFile, as Flask's
        send_file gets it) or puts another at its path would leave the
        front nothing, or the wrong file, to send. So the frame names the
        path only if it still leads to the application's file; otherwise the
        worker sends the region itself, read from its own descriptor. (A
        front that acknowledged FILE before close() ran would keep such
        files off this worker too; the channel has no such frame yet.)
        """
        found, length = self.file
        if found.still_named():
            self.transport.send_file(found.path, found.offset, length)
        elif self._carries_body():
            for block in found.blocks(length, MAX_CHUNK):
                self.transport.send_body(block, False)

    def release_file(self) -> None:
        found, _ = self.file
        self.file = None
        found.close()

    def _complete(self) -> None:
        if not self.head_sent:
            # PEP 3333: with an empty body the headers go out at the end.
            if self.code is None:
                raise WSGIViolation("start_response was not called")
            self._send_head()
        if self.remaining and self._carries_body():
            # PEP 3333 "Handling the Content-Length Header": too little data
            # for the stated length; the connection must be closed.
            self.incomplete = True
            self._warn("sent %d bytes less than its Content-Length; the connection is aborted"
                       % self.remaining)

    # --------------------------------------------------------- sending

    def _send(self, data: bytes, flush: bool) -> None:
        if not self.head_sent:
            if self.code is None:
                raise WSGIViolation("start_response was not called before the first body chunk")
            self._send_head()
        remaining = self.remaining
        if remaining is not None:
            if len(data) > remaining:
                self._overflow()
                data = data[:remaining]
                if not data:
                    return
            self.remaining = remaining - len(data)
        self.transport.send_body(data, flush)

    def _overflow(self) -> None:
        # PEP 3333 "Handling the Content-Length Header": never more than the
        # declared length. The client gets the declared bytes and cannot
        # tell the response was cut, so the connection must not carry
        # another: finish() sends ABORT, and the front closes it once
        # those bytes are out.
        if self.overflowed or not self._carries_body():
            return
        self.overflowed = True
        self._warn("sent more than its Content-Length of %d bytes; the response was cut there "
                   "and the connection closed" % self.declared)

    def _carries_body(self) -> bool:
        # RFC 9110 9.3.2, 6.4.1: HEAD, 1xx, 204 and 304 responses have no
        # body; the front sends none of what the application gives.
        return self.code not in NO_CONTENT_STATUS and self.environ.get("REQUEST_METHOD") != "HEAD"

    def _send_head(self) -> None:
        if self.violation is not None:
            # A start_response call failed and the application carried on:
            # nothing of this response may go out.
            raise WSGIViolation(self.violation)
        self.head_sent = True
        self.transport.send_head(self.code, self.reason, self.headers)

    def _warn(self, what: str) -> None:
        sys.stderr.write("portico: %s %s: the application %s\n"
                         % (self.environ.get("REQUEST_METHOD", "?"), request_uri(self.environ), what))

    # ------------------------------------------------------ validation

    def _violate(self, message: str):
        # Remembered as well as raised: an application that catches the
        # error must not get a malformed response out anyway.
        if self.violation is None:
            self.violation = message
        raise WSGIViolation(message)

    def _check_status(self, status):
        if type(status) is str:
            known = _CHECKED_STATUSES.get(status)
            if known is not None:
                return known
        if not isinstance(status, str):
            self._violate("status must be a str, got %s" % type(status).__name__)
        match = STATUS.fullmatch(status)
        if match is None or int(match.group(1)) < 100:
            self._violate("malformed status %r (expected 'NNN Reason', no control characters)" % status)
        checked = int(match.group(1)), match.group(2) or ""
        if type(status) is str and len(_CHECKED_STATUSES) < _CHECKED_LIMIT:
            _CHECKED_STATUSES[status] = checked
        return checked

    def _check_headers(self, headers):
        # PEP 3333 "The start_response() Callable": a list of (name, value)
        # tuples of str; copied, so later changes by the application are
        # not sent unchecked.
        if type(headers) is not list:
            self._violate("headers must be a list, got %s" % type(headers).__name__)
        declared = None
        checked = []
        for item in headers:
            lower = None
            if type(item) is tuple:
                try:
                    lower = _CHECKED_FIELDS.get(item)
                except TypeError:
                    pass  # holds something unhashable: _check_field says what
            if lower is None:
                lower = self._check_field(item)
            if lower == "content-length":
                # RFC 9110 8.6: one decimal length; repeating the same value
                # is tolerated (as the front does), differing ones are not.
                value = item[1]
                if DIGITS.fullmatch(value.strip()) is None or declared not in (None, int(value)):
                    self._violate("bad Content-Length header %r" % value)
                declared = int(value)
            checked.append(item)
        return checked, declared

    def _check_field(self, item) -> str:
        """Checks one header item; returns its name in lower case."""
        if type(item) is not tuple or len(item) != 2:
            self._violate("each header must be a (name, value) tuple, got %r" % (item,))
        name, value = item
        if not isinstance(name, str) or not isinstance(value, str):
            self._violate("header name and value must be str, got %r" % (item,))
        if TOKEN.fullmatch(name) is None:
            self._violate("malformed header name %r" % name)
        if FIELD_VALUE_FORBIDDEN.search(value) is not None:
            self._violate("header %s has a value with a control or non-latin-1 character: %r"
                          % (name, value))
        lower = name.lower()
        if lower in HOP_BY_HOP:
            self._violate("hop-by-hop header %s is the server's to set (PEP 3333)" % name)
        if len(_CHECKED_FIELDS) < _CHECKED_LIMIT:
            _CHECKED_FIELDS[item] = lower
        return lower


# An application sends the same few statuses and mostly the same header
# items, request after request: each is checked once and remembered (a
# hello-world response's checks: 2.9 us -> 0.9 us; its whole path through
# the worker, measured in-process without I/O: 14.5 us -> 13.0 us). The first
# _CHECKED_LIMIT distinct ones are kept; values that change with every
# request (Set-Cookie, ETag) just go on being checked each time.
_CHECKED_LIMIT = 512
_CHECKED_STATUSES = {}   # status str -> (code, reason)
_CHECKED_FIELDS = {}     # (name, value) -> name.lower()


# ------------------------------------------------------------- reports

def request_uri(environ: dict) -> str:
    """The request target for logs: the latin-1 environ strings read back as utf-8."""
    uri = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING")
    if query:
        uri += "?" + query
    return uri.encode("latin-1", "replace").decode("utf-8", "backslashreplace")


def _request_line(environ: dict) -> str:
    return "%s %s" % (environ.get("REQUEST_METHOD", "?"), request_uri(environ))


def _violation_text(environ: dict, message: str) -> str:
    return "WSGI protocol violation in %s: %s" % (_request_line(environ), message)


def _error_text(environ: dict, error, close_error) -> str:
    # Loaded on the first error, not at start: traceback (with linecache and
    # tokenize) costs every worker ~0.6 MiB that most never need.
    import traceback
    exc = error[1]
    if isinstance(exc, WSGIViolation):
        text = _violation_text(environ, str(exc))
        # Raised by start_response or write inside the application: where
        # it happened is worth showing. Raised by the executor while
        # sending the result: the message says it all.
        if any(frame.f_code.co_filename != __file__ for frame, _ in traceback.walk_tb(error[2])):
            text += "\n" + "".join(traceback.format_exception(*error))
    else:
        text = "Error handling request %s\n%s" % (
            _request_line(environ), "".join(traceback.format_exception(*error)))
    if close_error is not None:
        text += "\nclose() of the response iterable failed as well:\n"
        text += "".join(traceback.format_exception(*close_error))
    return text.rstrip("\n")
