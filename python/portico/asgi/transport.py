"""What the ASGI core needs from a request's transport.

The HTTP cycle (http_cycle.py) knows nothing of fd 3 or frames: the request
loop gives it one object per request with this shape (HTTPTransport; a
WebSocket's cycle gets a WebSocketTransport, below), and the tests give it
an in-memory one (wsgiref's split between the protocol and the transport,
as the WSGI executor has it). In frame terms (docs/protocol.md):

    read_body          REQUEST_BODY / REQUEST_END in, WANT_BODY out
    send_early_hints   a 103 head (needs a frame of its own)
    send_head          RESPONSE_HEAD
    send_body          RESPONSE_BODY, spending WINDOW credit
    send_file          FILE
    send_trailers      trailer fields (needs a frame of its own)
    finish             RESPONSE_END, ABORT when abort
    fail               ERROR
    disconnected       set on CANCEL, or REQUEST_END with ABORTED

Exactly one of finish() and fail() is called per request, and nothing
after it. Header names and values are bytes, names as the application gave
them (RFC 9110 5.1: case-insensitive; HTTP/2 wants them lower-cased, which
is the front's business).
"""
from __future__ import annotations

import asyncio
from typing import List, Optional, Protocol, Tuple

Fields = List[Tuple[bytes, bytes]]


class HTTPTransport(Protocol):
    """One request's transport, as the request loop implements it."""

    #: Set once the client is gone (or the front refused the response): the
    #: cycle then answers receive() with http.disconnect and send() with
    #: ClientDisconnected. Created inside the running loop.
    disconnected: asyncio.Event

    async def read_body(self) -> Tuple[bytes, bool]:
        """The next chunk of the request body and whether more follows;
        (b"", False) for a request without one, and at once. The first call
        is what asks an ``Expect: 100-continue`` client for its body (RFC
        9110 10.1.1). Flow control (WANT_BODY) is the transport's own.
        Raises ClientDisconnected when the body was cut short, or the
        client left while it waits (the cycle does not race it against
        ``disconnected``, which would cost a task per read). Must lose
        nothing when cancelled: frameworks poll receive() under a cancel
        scope (Starlette's Request.is_disconnected)."""

    def send_early_hints(self, headers: Fields) -> None:
        """A 103 Early Hints response (RFC 8297) with these ``link`` fields,
        before the final head. The cycle sends none after the head, nor to
        an HTTP/1.0 client (RFC 9110 15.2: no 1xx for them)."""

    def send_head(self, status: int, headers: Fields) -> None:
        """The response's status and fields; called once, before any body,
        file or trailers, possibly right before finish(). It may be queued:
        the next send_body, send_file, finish or fail pushes it out. With no
        Content-Length among ``headers`` the front frames the body itself
        (chunked, or to the connection's close for HTTP/1.0)."""

    async def send_body(self, data: bytes, more: bool) -> None:
        """Body bytes, never empty; returns once they are in the send buffer
        (www spec, "Response Body": servers flush before send() returns),
        waiting for window credit first. ``more`` is False on the chunk the
        application marked last (finish or send_trailers follows). Raises
        ClientDisconnected (an OSError) once the client is gone."""

    def send_file(self, path: bytes, offset: int, length: Optional[int]) -> None:
        """The file at ``path`` from ``offset``, ``length`` bytes or (None)
        to its end, read and sent by the front (the pathsend extension).
        Counts as the whole body."""

    def send_trailers(self, headers: Fields) -> None:
        """Trailer fields after the body (the trailers extension). The front
        sends them only where they can go: HTTP/2, or a chunked HTTP/1.1
        response to a client that sent ``TE: trailers``; else it drops them."""

    def finish(self, abort: bool) -> None:
        """The response is over (terminal). ``abort``: it is broken or cut
        short, so the connection carries no other one, and an unfinished
        chunked body gets no last chunk."""

    def fail(self, status: int, text: str) -> None:
        """The request failed before anything was sent (terminal): the front
        answers ``status`` and logs ``text``."""


class WebSocketTransport(Protocol):
    """One WebSocket's transport, as the request loop implements it
    (websocket_cycle.py drives it). In frame terms (docs/protocol.md
    "WebSocket frames"):

        read_message   WEBSOCKET_MESSAGE / WEBSOCKET_CLOSE in, WANT_BODY out
        send_accept    WEBSOCKET_ACCEPT
        send_message   WEBSOCKET_MESSAGE, spending WINDOW credit
        send_close     WEBSOCKET_CLOSE
        send_head      RESPONSE_HEAD (a denial response, or the 403)
        send_body      RESPONSE_BODY (a denial response's body)
        finish         RESPONSE_END, ABORT when abort
        fail           ERROR

    Exactly one of finish() and fail() is called per connection, and
    nothing after it; before it, either send_accept() and then messages and
    a close, or send_head() and body (never both)."""

    #: Set once the client is gone: its close came, the connection was lost,
    #: or the front gave the stream up (CANCEL). ``close`` then holds the
    #: (code, reason) the application hears in websocket.disconnect.
    disconnected: asyncio.Event
    close: Optional[Tuple[int, str]]
    #: The largest message send_message() takes, in bytes.
    max_message: int

    async def read_message(self):
        """The client's next message: a str for a text one, bytes for a
        binary one; once they are all read and the client is gone, its
        close as a (code, reason) tuple, at once and on every call after.
        After send_close() it returns that close at once, and after
        finish() or fail() a close too ((1006, "") if there was none).
        Called only after send_accept(). Returning a message is what lets
        the front read the client again (flow control is the transport's).
        Must lose nothing when cancelled."""

    def send_accept(self, subprotocol: Optional[str], headers: Fields) -> None:
        """Completes the handshake (RFC 6455 4.2.2) with ``subprotocol``
        (one of the client's offers, or None) and ``headers`` added to the
        101 response."""

    async def send_message(self, data: bytes, text: bool) -> None:
        """One whole message, UTF-8 when ``text``; waits while the client
        has not taken what went before (window credit). Raises
        ClientDisconnected once the client is gone."""

    def send_close(self, code: int, reason: str) -> None:
        """The application closes the connection (RFC 6455 5.5.1)."""

    def send_head(self, status: int, headers: Fields) -> None:
        """An HTTP response instead of the handshake (403, or the denial
        response extension's); body, then finish(), follow."""

    async def send_body(self, data: bytes, more: bool) -> None:
        """The HTTP response's body bytes, never empty; as HTTPTransport's."""

    def finish(self, abort: bool) -> None:
        """The connection is over (terminal): after an accept the front
        closes the socket with 1000 if it is still open; after an HTTP
        response the response ends (cut, with ``abort``)."""

    def fail(self, status: int, text: str) -> None:
        """The application failed (terminal): the front logs ``text``; it
        answers ``status`` before an accept, and closes the socket with
        1011 after one."""
