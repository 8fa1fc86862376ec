"""The frame link: fd 3, the channel to the front, as frames (docs/protocol.md).

It owns the socket, the codec, the stream table and the output buffer; it
dispatches every frame from the front to its stream's state, and keeps each
stream's response within its window ("Flow control"). How requests are run,
and how one that must wait for the front waits, is the request loop's
(inline_loop.py, thread_pool_loop.py): the link asks its ``waiter``.

Outgoing frames collect in a FrameOutput (frame_output.py): headers and
small payloads copied into one buffer, body blocks held by reference, all
written with one sendmsg:

  * when the copied bytes pass FLUSH_THRESHOLD, or all of them HOLD_LIMIT
    (a response body held by reference costs no memory here, so a whole
    100 KiB response, its head, body and end, leaves in one write),
  * before any blocking read (the front may be waiting for what we hold),
  * after each chunk of a streaming response (PEP 3333 "Buffering and
    Streaming": a block may not be held back while the application
    produces the next one),
  * before the application runs for a request (the request loop flushes):
    what is finished, and this request's STARTED, never waits on
    application code, which may take any time (a response held behind a
    slow request would be late, and the front would count the finished
    request as still running).

This class assumes one thread; thread_pool_loop.ThreadSafeFrameLink is the
same link shared by request threads.
"""
from __future__ import annotations

import socket
from collections import deque

from .codec import (
    BOOT_ERROR, CANCEL, MAX_CHUNK, PING, PONG, READY, REQUEST, REQUEST_BODY, REQUEST_END, RESPONSE_BODY, STOP,
    TYPE_NAMES, WANT_BODY, WEBSOCKET, WEBSOCKET_TYPES, WINDOW, decode_u32, encode_ready, encode_u32, fit_text,
    frame_header, split_request,
)
from .environ_decoder import EnvironDecoder
from .errors import ChannelClosed, ChannelCorrupt, ClientDisconnected, FrameError
from .frame_decoder import FrameDecoder
from .frame_output import FrameOutput
from .request_head import decode_request_head
from .stream import Stream, WebSocketStream

FLUSH_THRESHOLD = 64 * 1024
# Body bytes held by reference (not copied) are written once this many wait:
# two whole RESPONSE_BODY frames.
HOLD_LIMIT = 2 * MAX_CHUNK
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)


class NoLock:
    """Stands in for a lock where only one thread touches the state."""

    __slots__ = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class FrameLink:
    """The channel's frames and the streams they open.

    ``pending`` holds the streams the front opened that no request loop has
    taken yet, in arrival order. ``stopping`` turns true at STOP. ``waiter``
    is the request loop: its ``wait(stream, ready)`` blocks a request until
    ready() is true, its ``poll()`` takes in what has arrived without
    blocking.
    """

    def __init__(self, sock) -> None:
        self.sock = sock
        self.lock = NoLock()
        self.stopping = False
        self.pending = deque()
        self.waiter = None
        # A PONG was buffered by dispatch: a reader that does not flush
        # before its next read (thread_pool_loop.py) flushes it.
        self.pong_due = False
        self._decoder = FrameDecoder()
        self._out = FrameOutput()
        self._streams = {}
        self.environs = EnvironDecoder()
        self._decode_environ = self.environs.decode

    # ----------------------------------------------------------- output

    def send(self, ftype: int, flags: int, stream_id: int, payload=b"") -> None:
        out = self._out
        out.add(frame_header(ftype, flags, stream_id, len(payload)), payload)
        if out.copied >= FLUSH_THRESHOLD or out.size >= HOLD_LIMIT:
            self.flush()

    def flush(self) -> None:
        if self._out:
            try:
                self._out.write_all(self.sock)
            except OSError as exc:
                raise ChannelClosed() from exc

    def send_ready(self, pid: int, capabilities: int, flags: int = 0) -> None:
        """READY: this runtime's protocol version and what it serves; the
        front refuses a version it does not speak. ``flags``: codec.ASGI
        for a worker that runs its application as ASGI."""
        self.send(READY, flags, 0, encode_ready(pid, capabilities=capabilities))
        self.flush()

    def send_boot_error(self, text: str) -> None:
        self.send(BOOT_ERROR, 0, 0, fit_text(text).encode("utf-8", "backslashreplace"))
        self.flush()

    def want_body(self, stream: Stream, n: int) -> None:
        self.send(WANT_BODY, 0, stream.id, encode_u32(n))

    def send_body(self, stream: Stream, data: bytes, flush: bool) -> None:
        """Response body in frames of at most MAX_CHUNK, never more than the
        stream's window allows in flight (docs/protocol.md "Flow control")."""
        total = len(data)
        view = memoryview(data) if total > MAX_CHUNK else data
        pos = 0
        while pos < total:
            with self.lock:
                if stream.cancelled:
                    raise ClientDisconnected("client disconnected")
                credit = stream.credit
                if credit > 0:
                    n = min(total - pos, credit, MAX_CHUNK)
                    stream.credit = credit - n
            if credit <= 0:
                self.waiter.wait(stream, lambda: stream.credit > 0 or stream.cancelled)
                continue
            self.send(RESPONSE_BODY, 0, stream.id, view if n == total else view[pos:pos + n])
            pos += n
        if flush:
            # A disconnect must be noticed even when the window never fills
            # and no read ever blocks, so look for a CANCEL before each flush.
            self.waiter.poll()
            if stream.cancelled:
                raise ClientDisconnected("client disconnected")
            self.flush()

    # ------------------------------------------------------------ input

    def wait(self, stream: Stream, ready) -> None:
        """Blocks the request on ``stream`` until ready() is true, as its
        request loop waits (wsgi.input calls this)."""
        self.waiter.wait(stream, ready)

    def read(self, block: bool = True) -> None:
        """One recv, then every complete frame in the buffer dispatched.
        EOF raises ChannelClosed; without ``block``, nothing to read is no error."""
        if block:
            self.flush()
        try:
            n = self._decoder.recv_into(self.sock, 0 if block else _DONTWAIT)
        except BlockingIOError:
            return
        except OSError as exc:
            raise ChannelClosed() from exc
        if n == 0:
            raise ChannelClosed()
        self.dispatch_received()

    def receive(self) -> int:
        """One blocking recv into the frame buffer, nothing dispatched: for
        a reader that dispatches under a lock of its own. 0 at EOF."""
        return self._decoder.recv_into(self.sock)

    def dispatch_received(self) -> None:
        """Dispatches every complete frame received; a broken one raises
        ChannelCorrupt, which no application code may mistake for its own."""
        try:
            for ftype, flags, stream_id, payload in self._decoder.frames():
                self.dispatch(ftype, flags, stream_id, payload)
        except FrameError as exc:
            raise ChannelCorrupt(str(exc)) from exc

    def dispatch(self, ftype: int, flags: int, stream_id: int, payload) -> None:
        if ftype == REQUEST_BODY:
            stream = self._streams.get(stream_id)
            if stream is not None:
                stream.on_body(payload)
        elif ftype == REQUEST:
            if self.stopping:
                # Not STARTED, so the front may send it to another worker.
                return
            if stream_id == 0 or stream_id in self._streams:
                raise FrameError("REQUEST on stream %d, which is the channel or already open" % stream_id)
            shared, head, own = split_request(flags, payload)
            environ = self._decode_environ(shared, own)
            if head is None:
                stream = Stream(stream_id, flags, environ)
            else:
                # Only ASGI requests have heads, and only they may be WebSockets.
                stream = (WebSocketStream if flags & WEBSOCKET else Stream)(stream_id, flags, environ)
                stream.head = decode_request_head(head)
            self._streams[stream_id] = stream
            self.pending.append(stream)
        elif ftype == WINDOW:
            stream = self._streams.get(stream_id)
            if stream is not None:
                stream.on_window(decode_u32(payload))
        elif ftype == REQUEST_END:
            stream = self._streams.get(stream_id)
            if stream is not None:
                stream.on_end(flags)
        elif ftype == CANCEL:
            stream = self._streams.get(stream_id)
            if stream is not None:
                stream.on_cancel()
        elif ftype == STOP:
            self.stopping = True
        elif ftype == PING:
            # The front pings only ASGI workers (asgi_link.py answers from
            # the event loop); answered here too, as it costs nothing. Into
            # the buffer directly: under the thread-pool loop the reader
            # dispatches holding the lock that send() takes.
            self._out.add(frame_header(PONG, 0, 0, len(payload)), payload)
            self.pong_due = True
        elif ftype in WEBSOCKET_TYPES:
            self.dispatch_websocket(ftype, flags, stream_id, payload)
        else:
            raise FrameError("the front sent %s, a worker-to-front frame" % TYPE_NAMES[ftype])

    def dispatch_websocket(self, ftype: int, flags: int, stream_id: int, payload) -> None:
        """A WebSocket frame: only the ASGI link (asgi_link.py) takes them;
        the front never sends one to a WSGI worker."""
        raise FrameError("the front sent %s to a worker that serves no WebSockets" % TYPE_NAMES[ftype])

    def forget(self, stream: Stream) -> None:
        # From here on, frames for this id are for an unknown stream: ignored.
        self._streams.pop(stream.id, None)

    @property
    def open_streams(self) -> int:
        return len(self._streams)
