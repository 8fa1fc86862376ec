"""The transport: fd 3, the frame channel to the front (docs/protocol.md).

One Channel owns the socket. It reads in large chunks and dispatches every
frame to its stream's state; it collects outgoing frames in one bytearray and
writes them with a single sendall:

  * when the buffer passes FLUSH_THRESHOLD,
  * before any blocking read (the front may be waiting for what we hold),
  * after each chunk of a streaming response (PEP 3333 "Buffering and
    Streaming": a block may not be held back while the application
    produces the next one),
  * before the application runs for a request: what is finished, and this
    request's ACCEPT, never waits on application code, which may take any
    time (a response held behind a slow request would be late, and the
    front would count the finished request as still running).

This class is the single-threaded worker: requests run inline, one at a
time, and every wait for the front (request body, response window) is a
blocking read on the channel that dispatches whatever else arrives
meanwhile. threaded.py builds the thread-pool variant on it.
"""
from __future__ import annotations

import socket
import sys
from collections import deque

from .codec import (
    ABORT, ACCEPT, BOOT_ERROR, CANCEL, ERROR, FILE, MAX_CHUNK, MAX_PAYLOAD, READY, REQUEST,
    REQUEST_BODY, REQUEST_END, RESPONSE_BODY, RESPONSE_END, RESPONSE_HEAD, STOP,
    TYPE_NAMES, WANT_BODY, WINDOW, FrameDecoder, decode_environ, decode_u32,
    encode_error, encode_file, encode_response_head, encode_u32, frame_header, split_request,
)
from .errors import ChannelClosed, ChannelCorrupt, ClientDisconnected, FrameError
from .input import RequestInput
from .stream import Stream

FLUSH_THRESHOLD = 64 * 1024
# Shared environ blocks remembered, decoded (docs/protocol.md "Shared
# environ"): one per mount, listener and Host in practice. A front that
# sends more (many Host names) only costs the decoding each time: the
# memory is emptied when full.
SHARED_ENVIRONS = 64
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)


class NoLock:
    """Stands in for a lock where only one thread touches the state."""

    __slots__ = ()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Channel:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = NoLock()
        self.stopping = False
        self._decoder = FrameDecoder()
        self._out = bytearray()
        self._streams = {}
        self._pending = deque()
        self._shared_environs = {}

    # ------------------------------------------------------------ serving

    def serve(self, executor) -> None:
        """Runs requests until STOP (after the ones already received). EOF on
        fd 3 raises ChannelClosed, a broken frame ChannelCorrupt."""
        pending = self._pending
        while True:
            while pending:
                self.run_request(pending.popleft(), executor)
            if self.stopping:
                self.flush()
                return
            self.read()

    def run_request(self, stream: Stream, executor) -> None:
        transport = StreamTransport(self, stream)
        transport.accept()
        # See the module docstring: nothing finished waits on the application.
        self.flush()
        try:
            if stream.cancelled:
                # CANCEL came while the request waited its turn.
                transport.finish(abort=True)
            else:
                executor.handle(stream.environ, transport)
        except Exception:
            # handle() reports the application's errors itself; whatever
            # escapes it is a bug in portico. Log it, end the stream, go on.
            import traceback  # loaded on the first error: it costs every worker ~0.6 MiB
            text = "portico: internal error on stream %d\n%s" % (stream.id, traceback.format_exc())
            sys.stderr.write(text)
            if not transport.done:
                transport.fail(500, text)
        finally:
            self.forget(stream)

    def forget(self, stream: Stream) -> None:
        # From here on, frames for this id are for an unknown stream: ignored.
        self._streams.pop(stream.id, None)

    # ----------------------------------------------------------- output

    def send(self, ftype: int, flags: int, stream_id: int, payload=b"") -> None:
        out = self._out
        out += frame_header(ftype, flags, stream_id, len(payload))
        out += payload
        if len(out) >= FLUSH_THRESHOLD:
            self.flush()

    def flush(self) -> None:
        if self._out:
            try:
                self.sock.sendall(self._out)
            except OSError as exc:
                raise ChannelClosed() from exc
            del self._out[:]

    def send_ready(self, pid: int) -> None:
        self.send(READY, 0, 0, encode_u32(pid))
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
                self.wait(stream, lambda: stream.credit > 0 or stream.cancelled)
                continue
            self.send(RESPONSE_BODY, 0, stream.id, view if n == total else view[pos:pos + n])
            pos += n
        if flush:
            # A disconnect must be noticed even when the window never fills
            # and no read ever blocks, so look for a CANCEL before each flush.
            self.poll()
            if stream.cancelled:
                raise ClientDisconnected("client disconnected")
            self.flush()

    # ------------------------------------------------------------ input

    def read(self, block: bool = True) -> None:
        """One recv, then every complete frame in the buffer dispatched."""
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
        try:
            for ftype, flags, stream_id, payload in self._decoder.frames():
                self.dispatch(ftype, flags, stream_id, payload)
        except FrameError as exc:
            raise ChannelCorrupt(str(exc)) from exc

    def poll(self) -> None:
        """Dispatches what has already arrived, without blocking."""
        self.read(block=False)

    def wait(self, stream: Stream, ready) -> None:
        """Blocks until ready() is true, serving the channel meanwhile: other
        streams' frames are dispatched, new REQUESTs queued."""
        while not ready():
            self.read()

    def dispatch(self, ftype: int, flags: int, stream_id: int, payload) -> None:
        if ftype == REQUEST_BODY:
            stream = self._streams.get(stream_id)
            if stream is not None:
                stream.on_body(payload)
        elif ftype == REQUEST:
            if self.stopping:
                # Not ACCEPTed, so the front may send it to another worker.
                return
            if stream_id == 0 or stream_id in self._streams:
                raise FrameError("REQUEST on stream %d, which is the channel or already open" % stream_id)
            stream = Stream(stream_id, flags, self.environ_of(flags, payload))
            self._streams[stream_id] = stream
            self.queue(stream)
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
        else:
            raise FrameError("the front sent %s, a worker-to-front frame" % TYPE_NAMES[ftype])

    def environ_of(self, flags: int, payload) -> dict:
        """A REQUEST's environ: a fresh dict, its shared part decoded once
        per distinct block (a hello-world environ, in-process: 4.9 us -> 3.4-3.8 us)."""
        shared, own = split_request(flags, payload)
        if shared is None:
            return decode_environ(own)
        key = bytes(shared)
        base = self._shared_environs.get(key)
        if base is None:
            base = decode_environ(shared)
            if len(self._shared_environs) >= SHARED_ENVIRONS:
                self._shared_environs.clear()
            self._shared_environs[key] = base
        return decode_environ(own, dict(base))

    def queue(self, stream: Stream) -> None:
        self._pending.append(stream)


class StreamTransport:
    """The executor's transport for one stream of a Channel."""

    __slots__ = ("_channel", "_stream", "_id", "input", "done")

    def __init__(self, channel: Channel, stream: Stream) -> None:
        self._channel = channel
        self._stream = stream
        self._id = stream.id
        self.input = RequestInput(stream, channel)
        self.done = False

    @property
    def cancelled(self) -> bool:
        return self._stream.cancelled

    def accept(self) -> None:
        self._channel.send(ACCEPT, 0, self._id)

    def send_head(self, code: int, reason: str, headers) -> None:
        if self._stream.cancelled:
            raise ClientDisconnected("client disconnected")
        self._channel.send(RESPONSE_HEAD, 0, self._id, encode_response_head(code, reason, headers))

    def send_body(self, data: bytes, flush: bool) -> None:
        self._channel.send_body(self._stream, data, flush)

    def send_file(self, path: bytes, offset: int, length) -> None:
        if self._stream.cancelled:
            raise ClientDisconnected("client disconnected")
        self._channel.send(FILE, 0, self._id, encode_file(offset, length, path))

    def finish(self, abort: bool = False) -> None:
        self.done = True
        self._channel.send(RESPONSE_END, ABORT if abort else 0, self._id)

    def fail(self, status: int, text: str) -> None:
        self.done = True
        self._channel.send(ERROR, 0, self._id, encode_error(status, fit_text(text)))


# At most 6 bytes per character (4 in utf-8, 6 for a lone surrogate written
# as a \udcXX escape): this many characters always fit one frame.
_MAX_TEXT_CHARS = (MAX_PAYLOAD - 2) // 6


def fit_text(text: str) -> str:
    """A log text cut to fit one frame: a frame too big to build would lose
    the report altogether."""
    if len(text) <= _MAX_TEXT_CHARS:
        return text
    note = "\n[... cut by portico: %d characters in all]" % len(text)
    return text[:_MAX_TEXT_CHARS - len(note)] + note
