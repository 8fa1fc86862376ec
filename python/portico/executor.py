"""Runs one request through a WSGI application: PEP 3333 and nothing else.

In the spirit of wsgiref.handlers.BaseHandler, the executor knows nothing of
fd 3 or frames: it talks to a transport (transport.py), which carries the
bytes. The channel's transport (stream_transport.py) turns its calls into
frames; the tests use an in-memory one. response.py is the response side of
a request (start_response, write, the returned iterable), response_checks.py
what start_response checks.

With debug (--debug) an error raised before the response head went out is
answered with debug_page's HTML page instead of fail(); the log text fail()
would have carried goes to sys.stderr, which the front logs under the
worker's pid.
"""
from __future__ import annotations

import sys

from .error_reports import error_text, violation_text
from .errors import ClientDisconnected, WSGIViolation
from .file_wrapper import FileWrapper
from .response import Response


class Executor:
    def __init__(self, app, multithread: bool = False, multiprocess: bool = True,
                 debug: bool = False) -> None:
        self.app = app
        # Imported only with --debug: most workers never need its modules.
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
            text = violation_text(environ, response.violation)
            violation = WSGIViolation(response.violation)
            if not self._send_error_page(environ, transport, response, text,
                                         (WSGIViolation, violation, None), None):
                transport.fail(500, text)
            return
        if error is not None:
            text = error_text(environ, error, close_error)
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
            import traceback  # see error_reports.error_text
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
