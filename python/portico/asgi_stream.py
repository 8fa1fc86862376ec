"""One request stream as the ASGI core's transport (asgi/transport.py's
HTTPTransport), over an AsgiFrameLink.

The stream's state is the plain Stream the WSGI loops use (stream.py),
changed by the same dispatch; what a task waits for (body bytes, the end of
the body, window credit, a cancel) it awaits as a future that the link
resolves after each frame for the stream (``wake``). Nothing here blocks.

    read_body          awaits REQUEST_BODY / REQUEST_END; sends WANT_BODY
    send_early_hints   EARLY_HINTS
    send_head          RESPONSE_HEAD (no reason phrase: the front gives the status's own)
    send_body          RESPONSE_BODY, awaiting WINDOW credit
    send_file          FILE
    send_trailers      RESPONSE_TRAILERS
    finish             RESPONSE_END, ABORT when abort
    fail               ERROR
    disconnected       set on CANCEL, or REQUEST_END with ABORTED
"""
from __future__ import annotations

import asyncio

from .codec import (
    ABORT, EARLY_HINTS, ERROR, FILE, MAX_CHUNK, RESPONSE_BODY, RESPONSE_END,
    RESPONSE_HEAD, RESPONSE_TRAILERS, WANT_BODY, encode_error, encode_fields, encode_file,
    encode_response_head_fields, encode_u32, fit_text,
)
from .errors import ClientDisconnected


class AsgiStreamTransport:
    """The HTTPTransport of one stream. Made inside the running loop."""

    __slots__ = ("_link", "stream", "_id", "disconnected", "task", "timed_out", "done", "_waiters")

    def __init__(self, link, stream) -> None:
        self._link = link
        self.stream = stream
        self._id = stream.id
        self.disconnected = asyncio.Event()
        if stream.cancelled or stream.aborted:
            self.disconnected.set()
        self.task = None
        self.timed_out = False
        self.done = False
        self._waiters = []

    # ------------------------------------------------ the link's side

    def wake(self) -> None:
        """A frame changed the stream: whatever awaits it looks again."""
        waiters = self._waiters
        if waiters:
            self._waiters = []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)

    def on_cancel(self, timed_out: bool) -> None:
        # Either way the client will see nothing more of this response.
        self.disconnected.set()
        self.wake()
        if timed_out:
            # The front answered 504 at --timeout: the application's work
            # is for nobody, so it is stopped (CancelledError inside it).
            # A plain CANCEL (the client left) leaves the task alone: the
            # application hears http.disconnect and cleans up as it likes.
            self.timed_out = True
            if self.task is not None:
                self.task.cancel()

    async def _changed(self) -> None:
        waiter = self._link.loop.create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            # Cancelled while waiting: nothing was taken, nothing is lost
            # (frameworks poll receive() under cancel scopes).
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    # ------------------------------------------------------ request body

    async def read_body(self):
        st = self.stream
        while True:
            body = st.body
            if body:
                data = body.take()
                # A body cut short still hands out what came; the next
                # read raises.
                more = not st.body_done or st.aborted
                if more:
                    self._grant()
                return data, more
            if st.body_done:
                if st.aborted:
                    raise ClientDisconnected("the client disconnected before the whole request body arrived")
                return b"", False
            if st.cancelled:
                raise ClientDisconnected("the client disconnected")
            # For an Expect: 100-continue request the first of these is
            # what makes the front send 100 Continue (RFC 9110 10.1.1).
            self._grant()
            await self._changed()

    def _grant(self) -> None:
        n = self.stream.top_up()
        if n:
            self._link.send(WANT_BODY, 0, self._id, encode_u32(n))

    # ---------------------------------------------------------- response

    def send_early_hints(self, headers) -> None:
        self._link.send(EARLY_HINTS, 0, self._id, encode_fields(headers))

    def send_head(self, status: int, headers) -> None:
        self._link.send(RESPONSE_HEAD, 0, self._id, encode_response_head_fields(status, headers))

    async def send_body(self, data: bytes, more: bool) -> None:
        """In frames of at most MAX_CHUNK, never more in flight than the
        stream's window (docs/protocol.md "Flow control"): at 0 credit the
        task awaits WINDOW while the loop serves everything else."""
        st = self.stream
        link = self._link
        total = len(data)
        view = memoryview(data) if total > MAX_CHUNK else data
        pos = 0
        while pos < total:
            if st.cancelled or self.disconnected.is_set():
                raise ClientDisconnected("the client disconnected")
            credit = st.credit
            if credit <= 0:
                await self._changed()
                continue
            n = min(total - pos, credit, MAX_CHUNK)
            st.credit = credit - n
            link.send(RESPONSE_BODY, 0, self._id, view if n == total else view[pos:pos + n])
            pos += n
        if link.backlogged:
            await link.drained()

    def send_file(self, path: bytes, offset: int, length) -> None:
        self._link.send(FILE, 0, self._id, encode_file(offset, length, path))

    def send_trailers(self, headers) -> None:
        self._link.send(RESPONSE_TRAILERS, 0, self._id, encode_fields(headers))

    def finish(self, abort: bool) -> None:
        if not self.done:
            self.done = True
            self._link.send(RESPONSE_END, ABORT if abort else 0, self._id)

    def fail(self, status: int, text: str) -> None:
        if not self.done:
            self.done = True
            self._link.send(ERROR, 0, self._id, encode_error(status, fit_text(text)))
