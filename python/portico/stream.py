"""The worker's state for one request stream, as the frames from the front
change it. The channel calls the ``on_*`` methods; wsgi.input and the
response side read the fields. No I/O here."""
from __future__ import annotations

from collections import deque

from .body_queue import BodyQueue
from .codec import ABORTED, EXPECT_CONTINUE, HAS_BODY, REQUEST_WINDOW, RESPONSE_WINDOW

# RFC 6455 7.4.1: the code for a connection that ended without a close frame.
ABNORMAL_CLOSURE = 1006


class Stream:
    __slots__ = (
        "id", "environ", "head", "expect_continue",
        "body", "received", "granted", "body_done", "aborted",
        "credit", "cancelled",
    )

    def __init__(self, stream_id: int, flags: int, environ: dict) -> None:
        self.id = stream_id
        self.environ = environ
        # The REQUEST's request_head.RequestHead, set by the link under HAS_HEAD.
        self.head = None
        has_body = bool(flags & HAS_BODY)
        self.expect_continue = bool(flags & EXPECT_CONTINUE)
        # Request body: bytes received but not yet read by the application.
        self.body = BodyQueue()
        self.received = 0
        # docs/protocol.md "Flow control": after STARTED the front may send
        # REQUEST_WINDOW bytes unasked, none for EXPECT_CONTINUE; the rest
        # only as WANT_BODY grants it.
        self.granted = REQUEST_WINDOW if has_body and not self.expect_continue else 0
        self.body_done = not has_body
        self.aborted = False
        # Response body bytes the worker may still send before it must wait
        # for WINDOW frames.
        self.credit = RESPONSE_WINDOW
        self.cancelled = False

    def top_up(self) -> int:
        """docs/protocol.md "Flow control": the bytes to grant (WANT_BODY) so
        that what is granted but not received, plus what is held but not
        read, is back at REQUEST_WINDOW, once it has fallen under half of
        it; 0 when no grant is due. Counts the grant as made."""
        if self.body_done or self.cancelled:
            return 0
        have = max(0, self.granted - self.received) + len(self.body)
        if have >= REQUEST_WINDOW // 2:
            return 0
        self.granted += REQUEST_WINDOW - have
        return REQUEST_WINDOW - have

    def on_body(self, data) -> None:
        self.body.append(data)
        self.received += len(data)

    def on_end(self, flags: int) -> None:
        self.body_done = True
        if flags & ABORTED:
            self.aborted = True

    def on_window(self, n: int) -> None:
        self.credit += n

    def on_cancel(self) -> None:
        self.cancelled = True


class WebSocketStream(Stream):
    """A stream opened by a REQUEST with WEBSOCKET (an ASGI websocket
    scope). Beside Stream's state (``credit`` is spent by messages, as by
    response body): the client's messages not yet received by the
    application, and its close. Before ``accepted`` the front sends neither."""

    __slots__ = ("messages", "close", "accepted")

    def __init__(self, stream_id: int, flags: int, environ: dict) -> None:
        super().__init__(stream_id, flags, environ)
        # Each a str for a text message, bytes for a binary one (RFC 6455
        # 5.6), whole, as the front's WebSocket library reassembled it.
        self.messages = deque()
        # (code, reason) once the client closed or the connection was lost
        # (WEBSOCKET_CLOSE, RFC 6455 7.1.5), or CANCEL came (1006).
        self.close = None
        self.accepted = False

    def on_message(self, data) -> None:
        self.messages.append(data)

    def on_close(self, code: int, reason: str) -> None:
        if self.close is None:
            self.close = (code, reason)

    def on_cancel(self) -> None:
        self.cancelled = True
        # RFC 6455 7.1.5: no close frame was received, "abnormal closure".
        self.on_close(ABNORMAL_CLOSURE, "")
