"""One WebSocket stream as the ASGI core's transport (asgi/transport.py's
WebSocketTransport), over an AsgiFrameLink.

An AsgiStreamTransport (asgi_stream.py) for everything a WebSocket shares
with a request: waking, CANCEL, and the HTTP frames of a refused handshake
(the 403 of a close before the accept, the denial response extension's
head and body), and the terminal RESPONSE_END or ERROR. The stream is a
stream.WebSocketStream, whose message queue and close the link fills
(asgi_link.py); nothing here blocks.

    read_message   the queue's next message, WANT_BODY(n) for the n handed
                   out in one pass of the loop (the front reads the client
                   again once fewer than --ws-max-queue are waiting)
    send_accept    WEBSOCKET_ACCEPT
    send_message   WEBSOCKET_MESSAGE, while the stream's credit is above 0
                   (one message may take it below: messages are never cut),
                   else awaiting WINDOW
    send_close     WEBSOCKET_CLOSE
"""
from __future__ import annotations

from .asgi_stream import AsgiStreamTransport
from .codec import MAX_PAYLOAD, TEXT, WANT_BODY, WEBSOCKET_ACCEPT, WEBSOCKET_CLOSE, WEBSOCKET_MESSAGE, encode_u32
from .errors import ClientDisconnected
from .stream import ABNORMAL_CLOSURE
from .websocket_payloads import encode_websocket_accept_fields, encode_websocket_close


class AsgiWebSocketTransport(AsgiStreamTransport):
    """The WebSocketTransport of one stream. Made inside the running loop."""

    __slots__ = ("closing", "_handed_out")

    # A message goes in one frame: the protocol has no continuation.
    max_message = MAX_PAYLOAD

    def __init__(self, link, stream) -> None:
        super().__init__(link, stream)
        if stream.close is not None:
            self.disconnected.set()
        # The application's own websocket.close, (code, reason).
        self.closing = None
        # Messages read since the last WANT_BODY.
        self._handed_out = 0

    @property
    def close(self):
        """The client's close (code, reason), or None while it is there."""
        return self.stream.close

    # ------------------------------------------------------- client side

    async def read_message(self):
        st = self.stream
        while True:
            if self.closing is not None:
                return self.closing
            if st.messages:
                self._handed_out += 1
                if self._handed_out == 1:
                    self._link.loop.call_soon(self._want_more)
                return st.messages.popleft()
            if st.close is not None:
                return st.close
            if self.done:
                return (ABNORMAL_CLOSURE, "")
            await self._changed()

    def _want_more(self) -> None:
        # docs/protocol.md "WebSocket frames": WANT_BODY counts messages on
        # a WebSocket stream; the front keeps at most --ws-max-queue
        # unreceived, then stops reading the client (its TCP window fills).
        n = self._handed_out
        self._handed_out = 0
        if n and not self.done:
            self._link.send(WANT_BODY, 0, self._id, encode_u32(n))

    # -------------------------------------------------- application side

    def send_accept(self, subprotocol, headers) -> None:
        # From here on the front may send messages and the close.
        self.stream.accepted = True
        self._link.send(WEBSOCKET_ACCEPT, 0, self._id, encode_websocket_accept_fields(subprotocol, headers))

    async def send_message(self, data: bytes, text: bool) -> None:
        """Waits while the stream's credit is spent: the front returns it
        (WINDOW) as the client's socket takes the messages, so an
        application that sends faster than its client reads is slowed here
        rather than buffered in the front."""
        st = self.stream
        link = self._link
        while True:
            if st.cancelled or st.close is not None:
                raise ClientDisconnected("the client disconnected")
            if st.credit > 0:
                break
            await self._changed()
        st.credit -= len(data)
        link.send(WEBSOCKET_MESSAGE, TEXT if text else 0, self._id, data)
        if link.backlogged:
            await link.drained()

    def send_close(self, code: int, reason: str) -> None:
        self.closing = (code, reason)
        self._link.send(WEBSOCKET_CLOSE, 0, self._id, encode_websocket_close(code, reason))
        self.wake()

    # The terminal frame goes after the grants of this pass, so WANT_BODY
    # counts every message the application received.

    def finish(self, abort: bool) -> None:
        self._want_more()
        AsgiStreamTransport.finish(self, abort)
        self.wake()

    def fail(self, status: int, text: str) -> None:
        self._want_more()
        AsgiStreamTransport.fail(self, status, text)
        self.wake()
