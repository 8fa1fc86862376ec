"""wsgi.input (PEP 3333 "Input and Error Streams") over a request stream.

The body arrives as REQUEST_BODY frames and ends at REQUEST_END; with
wsgi.input_terminated True, read() with no size reads to that end.

Flow control (docs/protocol.md): the front sends request-body bytes only
while the worker has granted them. The grant is topped back up to
REQUEST_WINDOW whenever what is granted-but-not-received plus what is
buffered-but-unread falls under half of it, so a 1 GiB upload read in blocks
never holds more than about REQUEST_WINDOW here. Reads larger than the window
drain the buffer as they go, so they never wait on a grant they block.

For an EXPECT_CONTINUE stream nothing is granted until the application
first needs body bytes: that first WANT_BODY is what makes the front send
"100 Continue" (PEP 3333 "HTTP 1.1 Expect/Continue").

``link`` is the transport side: ``lock`` (guards the stream's fields),
``want_body(stream, n)`` (sends WANT_BODY) and ``wait(stream, ready)``
(blocks until ready() is true).
"""
from __future__ import annotations

from .errors import ClientDisconnected


class RequestInput:
    def __init__(self, stream, link) -> None:
        self._stream = stream
        self._link = link
        self._lock = link.lock

    # ---------------------------------------------------------- file API

    def read(self, size=-1) -> bytes:
        if size is None or size < 0:
            return self._read_all()
        if size == 0:
            return b""
        st = self._stream
        if len(st.body) >= size:
            data = self._take(size)
            self._grant()
            return data
        parts = []
        while size > 0:
            if st.body:
                chunk = self._take(size)
                parts.append(chunk)
                size -= len(chunk)
            elif not self._wait_for_body():
                break
        self._grant()
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readline(self, size=-1) -> bytes:
        if size is None or size < 0:
            size = -1
        elif size == 0:
            return b""
        st = self._stream
        parts = []
        while True:
            with self._lock:
                buf = st.body
                newline = buf.line_end(size)
                if newline >= 0:
                    end = newline
                else:
                    end = len(buf) if size < 0 else min(len(buf), size)
                data = buf.take(end) if end else b""
            if data:
                parts.append(data)
                if size > 0:
                    size -= len(data)
            if newline >= 0 or size == 0:
                break
            # No newline yet: what was buffered moved into parts, so a long
            # line drains the window and keeps the grants coming.
            if not self._wait_for_body():
                break
        self._grant()
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readlines(self, hint=-1) -> list:
        lines = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                return lines

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    # ----------------------------------------------------------- helpers

    def _read_all(self) -> bytes:
        st = self._stream
        parts = []
        while True:
            if st.body:
                parts.append(self._take(-1))
            elif not self._wait_for_body():
                return b"".join(parts)

    def _take(self, n: int) -> bytes:
        with self._lock:
            return self._stream.body.take(n)

    def _wait_for_body(self) -> bool:
        """Blocks until some body bytes are buffered; False at the end of the body."""
        st = self._stream
        self._grant()
        if not st.body and not st.body_done and not st.cancelled:
            self._link.wait(st, self._readable)
        if st.body:
            return True
        if st.aborted or (st.cancelled and not st.body_done):
            raise ClientDisconnected("client disconnected before the whole request body arrived")
        return False

    def _readable(self) -> bool:
        st = self._stream
        return bool(st.body) or st.body_done or st.cancelled

    def _grant(self) -> None:
        with self._lock:
            n = self._stream.top_up()
        if n:
            self._link.want_body(self._stream, n)

