"""The frame link of an ASGI worker: the same FrameLink (codec, stream table,
shared environs, output buffer), driven by an asyncio event loop instead of
blocking reads and writes.

    reading   the loop's add_reader on fd 3 calls AsgiLoop, which reads
              what is there (FrameLink.read without blocking) and
              dispatches it; nothing ever blocks in recv.
    writing   ``send`` appends to the output (frame_output.py: body blocks
              by reference) and arranges one flush per pass of the loop
              (call_soon), so the frames of one pass go out in one
              sendmsg. ``flush`` writes what the socket takes;
              the rest waits for add_writer. The blocking sendall is never
              called while the loop runs: a front slow to read would stall
              every request of the worker.
    waking    after a frame for a stream the stream's request
              (asgi_stream.AsgiStreamTransport) is woken: its body, end,
              window credit or cancel may be what a task awaits.
    WebSocket WEBSOCKET_MESSAGE and WEBSOCKET_CLOSE go to an accepted
              WebSocket's stream (stream.WebSocketStream), queued there
              for its task (asgi_websocket.py); anywhere else they break
              the contract.

A broken channel does not raise into whoever was writing: ``lost`` records
it and ``on_lost`` tells the loop, which ends the worker.
"""
from __future__ import annotations

import select

from .codec import (
    ABORTED, CANCEL, PING, PONG, REQUEST_END, TEXT, TIMED_OUT, TYPE_NAMES, WEBSOCKET_MESSAGE, WEBSOCKET_CLOSE,
    frame_header,
)
from .errors import ChannelClosed, FrameError
from .frame_link import FLUSH_THRESHOLD, HOLD_LIMIT, FrameLink
from .websocket_payloads import decode_websocket_close

# Output buffered beyond this and a task that sends body waits until the
# socket has taken it back under (send_body awaits ``drained``): the windows
# bound what each stream has in flight, this bounds the worker's buffer.
DRAIN_ABOVE = 1024 * 1024


class AsgiFrameLink(FrameLink):
    """A FrameLink whose output never blocks the event loop ``loop``."""

    def __init__(self, sock, loop) -> None:
        super().__init__(sock)
        self.loop = loop
        self.fd = sock.fileno()
        # stream id -> AsgiStreamTransport, while its task runs.
        self.requests = {}
        self.lost = None
        self.on_lost = None
        self._flush_due = False
        self._writing = False
        self._drain_waiters = []

    # ----------------------------------------------------------- output

    def send(self, ftype: int, flags: int, stream_id: int, payload=b"") -> None:
        out = self._out
        out.add(frame_header(ftype, flags, stream_id, len(payload)), payload)
        if out.copied >= FLUSH_THRESHOLD or out.size >= HOLD_LIMIT:
            self.flush()
        elif not self._flush_due and not self._writing and self.loop.is_running():
            # (Outside the loop, READY and BOOT_ERROR flush themselves.)
            self._flush_due = True
            self.loop.call_soon(self._due_flush)

    def _due_flush(self) -> None:
        self._flush_due = False
        self.flush()

    def flush(self) -> None:
        """Writes what the socket takes now; add_writer finishes the rest.
        Outside the running loop (READY, BOOT_ERROR, the last frames) it
        waits for the socket instead: nothing else is left to do then."""
        if not self.loop.is_running():
            self.flush_blocking()
            return
        if self._writing or self.lost is not None:
            return
        self._write()
        if self._out:
            self._writing = True
            self.loop.add_writer(self.fd, self._on_writable)

    def _on_writable(self) -> None:
        self._write()
        if not self._out or self.lost is not None:
            self._writing = False
            self.loop.remove_writer(self.fd)

    def _write(self) -> None:
        out = self._out
        if not out:
            return
        try:
            out.write(self.sock)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._lose(exc)
            return
        if self._drain_waiters and len(out) <= DRAIN_ABOVE:
            self._wake_drained()

    def flush_blocking(self) -> None:
        """Everything buffered, written whatever it takes (the socket stays
        non-blocking: select waits for room)."""
        out = self._out
        while out and self.lost is None:
            try:
                out.write(self.sock)
            except (BlockingIOError, InterruptedError):
                select.select([], [self.sock], [])
            except OSError as exc:
                self._lose(exc)
        if self.lost is not None:
            raise ChannelClosed() from self.lost

    @property
    def backlogged(self) -> bool:
        return len(self._out) > DRAIN_ABOVE and self.lost is None

    async def drained(self) -> None:
        """Returns once the output buffer is back under DRAIN_ABOVE."""
        while self.backlogged:
            waiter = self.loop.create_future()
            self._drain_waiters.append(waiter)
            await waiter

    def _wake_drained(self) -> None:
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _lose(self, exc: Exception) -> None:
        self.lost = exc
        self._out.clear()
        self._wake_drained()
        if self.on_lost is not None:
            self.on_lost(exc)

    # ------------------------------------------------------------ input

    def dispatch(self, ftype: int, flags: int, stream_id: int, payload) -> None:
        if ftype == CANCEL:
            stream = self._streams.get(stream_id)
            if stream is None:
                return
            stream.on_cancel()
            request = self.requests.get(stream_id)
            if request is not None:
                request.on_cancel(bool(flags & TIMED_OUT))
            return
        if ftype == PING:
            # Answered here, in the loop's reader callback: a loop blocked
            # by the application answers nothing, which is the point.
            self.send(PONG, 0, 0, bytes(payload))
            return
        FrameLink.dispatch(self, ftype, flags, stream_id, payload)
        if stream_id:
            request = self.requests.get(stream_id)
            if request is not None:
                if ftype == REQUEST_END and flags & ABORTED:
                    request.disconnected.set()
                request.wake()

    def dispatch_websocket(self, ftype: int, flags: int, stream_id: int, payload) -> None:
        if ftype not in (WEBSOCKET_MESSAGE, WEBSOCKET_CLOSE):
            raise FrameError("the front sent %s, a worker-to-front frame" % TYPE_NAMES[ftype])
        stream = self._streams.get(stream_id)
        if stream is None:
            return  # ended on our side: ignored, as every frame for it
        if not getattr(stream, "accepted", False):
            # The front sends neither before our WEBSOCKET_ACCEPT.
            raise FrameError("%s on stream %d, which is no accepted WebSocket" % (TYPE_NAMES[ftype], stream_id))
        if ftype == WEBSOCKET_MESSAGE:
            # Copied out of the read buffer. Text is UTF-8 the front's
            # WebSocket library has checked (RFC 6455 8.1).
            stream.on_message(str(payload, "utf-8", "replace") if flags & TEXT else bytes(payload))
        else:
            stream.on_close(*decode_websocket_close(payload))
            request = self.requests.get(stream_id)
            if request is not None:
                request.disconnected.set()
        # (dispatch wakes the stream's task after this.)
