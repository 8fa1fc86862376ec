"""Runs one HTTP request through an ASGI application: the ``receive`` and
``send`` it gets, and the one terminal call its transport gets.

ASGI 3.0, HTTP & WebSocket spec 2.4 (the "www spec"), and the pathsend,
trailers and early hint extensions. One HTTPCycle per request, apart from
the connection, which is the transport's (transport.py). The application
is checked as the WSGI executor checks a WSGI one: a response it breaks is
never sent as it gave it. While nothing went out the client gets a 500
(fail); once the head went out the response is aborted (finish(abort=True))
and the log says why.

    send() state:  start ──> [body ...] ──> final body ──> [trailers ...] ──> over
                            └─> pathsend ──────────────┘
"""
from __future__ import annotations

import asyncio
import os
import stat

from ..rfc9110 import NO_CONTENT_STATUS
from .cycle import ABORTED, FINISHED, Cycle, run_cycle
from .errors import ASGIViolation, ClientDisconnected
from .fields import check_fields, check_links, check_status
from .report import error_text, request_line, stderr_log, violation_text
from .scope import EARLY_HINT, EXTENSIONS, PATHSEND, TRAILERS, http_scope



async def run_http(app, head, transport, state: dict | None = None, extensions=EXTENSIONS,
                   log=stderr_log) -> "HTTPCycle":
    """Runs ``app`` for the request ``head`` (a RequestHead) over
    ``transport`` (an HTTPTransport), as one call; returns the cycle.

    ``state`` is the lifespan state (shallow-copied into the scope),
    ``extensions`` the extensions offered, ``log(level, text)`` where texts
    go ("debug", "warning", "error"). Whatever happens the transport gets
    exactly one of finish() and fail(), and nothing after it; a
    cancellation (the request loop's --timeout) aborts the response and is
    re-raised."""
    return await run_cycle(HTTPCycle, http_scope, app, head, transport, state, extensions, log)


class HTTPCycle(Cycle):
    """One request's receive(), send() and outcome. Made inside the running
    event loop."""

    def __init__(self, scope: dict, transport, log=stderr_log) -> None:
        super().__init__(scope, transport, log)
        extensions = scope.get("extensions") or {}
        self._offered = {name for name in (PATHSEND, TRAILERS, EARLY_HINT) if name in extensions}
        self._is_head = scope["method"] == "HEAD"
        self._request_done = False      # the last http.request went out
        self.status = None              # set by a valid http.response.start
        self.headers = None
        self.carries_body = True
        self.wants_trailers = False
        self.head_sent = False
        self.body_begun = False         # an http.response.body came (pathsend cannot follow)
        self.body_done = False          # the final body (or the pathsend) came
        self.remaining = None           # body bytes owed under Content-Length, or None
        self.trailers = []

    # ------------------------------------------------------------ receive

    async def receive(self) -> dict:
        # www spec, "Disconnect": http.disconnect once the response was
        # sent or the connection closed, and on every call after that.
        if self.outcome is not None or self._client_gone():
            return {"type": "http.disconnect"}
        if not self._request_done:
            try:
                body, more = await self.transport.read_body()
            except ClientDisconnected:
                self._gone = True
                return {"type": "http.disconnect"}
            if not more:
                self._request_done = True
            return {"type": "http.request", "body": body, "more_body": more}
        # The body is all read: the next event can only be the end, so wait
        # for it. A streaming response learns of a client that left as soon
        # as the front says so (CANCEL), with no polling.
        waiters = [asyncio.ensure_future(self.transport.disconnected.wait()),
                   asyncio.ensure_future(self._settled.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return {"type": "http.disconnect"}

    def _client_gone(self) -> bool:
        return self._gone or self.transport.disconnected.is_set()

    # --------------------------------------------------------------- send

    def _refused(self, message) -> bool:
        if self.outcome is not None:
            if self.outcome == FINISHED:
                return True  # www spec, "Response Body": further messages are ignored
            raise ClientDisconnected("the response was already ended")
        self._refuse_after_violation()
        if self._client_gone():
            # www spec 2.4, "Disconnected Client": an OSError subclass.
            raise ClientDisconnected("the client disconnected")
        return False

    async def _dispatch(self, message) -> None:
        try:
            kind = message["type"]
        except (TypeError, KeyError, IndexError):
            raise ASGIViolation("send() was given a %s, expected a message dict with a 'type'"
                                % type(message).__name__) from None
        if kind == "http.response.body":
            await self._body(message)
        elif kind == "http.response.start":
            self._start(message)
        elif kind == PATHSEND and PATHSEND in self._offered:
            self._pathsend(message)
        elif kind == TRAILERS and TRAILERS in self._offered:
            self._trailers(message)
        elif kind == EARLY_HINT and EARLY_HINT in self._offered:
            self._early_hint(message)
        else:
            raise ASGIViolation("unknown message type %r" % (kind,))

    def _start(self, message) -> None:
        if self.status is not None:
            raise ASGIViolation("http.response.start was sent twice")
        status = check_status(message.get("status"))
        wants_trailers = bool(message.get("trailers", False))
        headers, declared = check_fields(message.get("headers"), announces_trailers=wants_trailers)
        if wants_trailers and TRAILERS not in self._offered:
            raise ASGIViolation("http.response.start asks for trailers, but the "
                                "http.response.trailers extension is not offered")
        self.status = status
        self.headers = headers
        self.wants_trailers = wants_trailers
        # RFC 9110 9.3.2, 6.4.1: HEAD, 204 and 304 responses have no body;
        # the application may still send one (Starlette does for HEAD), and
        # none of it is forwarded (as executor.py does for WSGI).
        self.carries_body = not self._is_head and status not in NO_CONTENT_STATUS
        self.remaining = declared if self.carries_body else None

    async def _body(self, message) -> None:
        if self.status is None:
            raise ASGIViolation("http.response.body before http.response.start")
        if self.body_done:
            raise ASGIViolation("http.response.body after the response body was complete")
        body = message.get("body", b"")
        if not isinstance(body, bytes):
            raise ASGIViolation("the response body must be bytes, got %s" % type(body).__name__)
        more = bool(message.get("more_body", False))
        self.body_begun = True
        if not self.head_sent:
            # www spec, "Response Start": the head may wait for the first
            # body message, which leaves room for a 500 until then.
            self._send_head()
        cut = False
        if body and self.carries_body:
            if self.remaining is not None:
                if len(body) > self.remaining:
                    body = body[:self.remaining]
                    cut = True
                self.remaining -= len(body)
            if body:
                await self.transport.send_body(body, more and not cut)
        if cut:
            self._overflowed()
        elif not more:
            self.body_done = True
            if not self.wants_trailers:
                self._complete()

    def _pathsend(self, message) -> None:
        # Extensions, "Path Send": after the start, instead of any body,
        # once; the application sets Content-Type and Content-Length.
        if self.status is None:
            raise ASGIViolation("http.response.pathsend before http.response.start")
        if self.body_begun:
            raise ASGIViolation("http.response.pathsend cannot be mixed with http.response.body "
                                "or sent twice")
        path = message.get("path")
        if not isinstance(path, str) or not os.path.isabs(path):
            raise ASGIViolation("http.response.pathsend needs an absolute path as a str, got %r"
                                % (path,))
        try:
            info = os.stat(path)
        except OSError as exc:
            raise ASGIViolation("http.response.pathsend names %r, which cannot be sent: %s"
                                % (path, exc.strerror)) from None
        if not stat.S_ISREG(info.st_mode):
            raise ASGIViolation("http.response.pathsend names %r, which is not a regular file" % path)
        self.body_begun = self.body_done = True
        self._send_head()
        cut = False
        if self.carries_body:
            length = None  # to its end: the front finds the size as it opens the file
            if self.remaining is not None:
                length = min(info.st_size, self.remaining)
                cut = info.st_size > self.remaining
                self.remaining -= length
            if length != 0:
                self.transport.send_file(os.fsencode(path), 0, length)
        if cut:
            self._overflowed()
        elif not self.wants_trailers:
            self._complete()

    def _trailers(self, message) -> None:
        # Extensions, "HTTP Trailers": announced by trailers=True in the
        # start, sent after the final body, ended by more_trailers=False.
        if not self.wants_trailers:
            raise ASGIViolation("http.response.trailers without trailers=True in http.response.start")
        if not self.body_done:
            raise ASGIViolation("http.response.trailers before the final http.response.body")
        fields, _ = check_fields(message.get("headers"), trailers=True)
        self.trailers.extend(fields)
        if not message.get("more_trailers", False):
            if self.trailers and self.carries_body:
                self.transport.send_trailers(self.trailers)
            self._complete()

    def _early_hint(self, message) -> None:
        fields = check_links(message.get("links"))
        # Extensions, "Early Hints": the server may ignore the message. A
        # 103 can only precede the final head, and RFC 9110 15.2 sends no
        # 1xx to an HTTP/1.0 client.
        if fields and not self.head_sent and self.scope.get("http_version") != "1.0":
            self.transport.send_early_hints(fields)

    def _send_head(self) -> None:
        self.head_sent = True
        self.transport.send_head(self.status, self.headers)

    def _complete(self) -> None:
        abort = False
        if self.remaining:
            # RFC 9112 6.3: a body shorter than its Content-Length leaves
            # the client waiting; the connection must be closed.
            abort = True
            self._warn("sent %d bytes less than its Content-Length; the connection is aborted"
                       % self.remaining)
        self._end(FINISHED, abort)

    def _overflowed(self) -> None:
        # Never more than the declared length: the client got exactly the
        # declared bytes and cannot tell the response was cut, so the
        # connection must carry no other one. What the application sends
        # after this is ignored.
        self._warn("sent more than its Content-Length; the response was cut there "
                   "and the connection closed")
        self._end(FINISHED, True)

    def _warn(self, what: str) -> None:
        self.log("warning", "portico: %s: the application %s" % (request_line(self.scope), what))

    # ---------------------------------------------------------------- run

    def _raised(self, error) -> None:
        exc = error[1]
        if isinstance(exc, ClientDisconnected):
            # www spec 2.4: the server raised it, so it must catch it and
            # not log it as an error.
            self._gone = True
        if self.outcome is not None:
            if not isinstance(exc, ClientDisconnected):
                # After the response went out (Starlette runs background
                # tasks there): nothing to abort, but worth a log.
                self.log("error", error_text(self.scope, error))
            return
        if self._client_gone():
            self._end(ABORTED, True)
            return
        self._end_broken(self._broken_text(error))

    def _returned(self) -> None:
        if self.outcome is not None:
            return
        if self._client_gone():
            self._end(ABORTED, True)
        elif self.violation is not None:
            self._end_broken(violation_text(self.scope, self.violation))
        else:
            if self.status is None:
                missing = "it sent no http.response.start"
            elif not self.body_done:
                missing = "no http.response.body with more_body=False came"
            else:
                missing = "the trailers announced in http.response.start never came"
            self._end_broken(violation_text(
                self.scope, "the application returned without completing the response: " + missing))

    def _end_broken(self, text: str) -> None:
        if not self.head_sent:
            self._fail(text)
        else:
            self._end(ABORTED, True)
            self.log("error", text)
