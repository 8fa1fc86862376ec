"""Splits the bytes read from fd 3 into frames (codec.py has the layout).

One receive buffer, reused: frames are handed out as views into it, so a
frame costs no copy unless its consumer keeps it.
"""
from __future__ import annotations

import struct

from .codec import HEADER, HEADER_SIZE, MAX_PAYLOAD, TYPE_NAMES
from .errors import FrameError

RECV_BUFFER_SIZE = 256 * 1024
# Fewer free bytes than this at the tail and the partial frame moves to the
# front first, so recv_into never crawls along in tiny reads.
_MIN_RECV = 16 * 1024
# The payload length, bytes 8-11 of a header.
_LENGTH = struct.Struct(">I")


class FrameDecoder:
    """Splits a byte stream into frames, in one reused receive buffer.

    ``recv_into`` fills the buffer straight from the socket; ``frames()``
    yields (type, flags, stream, payload) where payload is a memoryview into
    that buffer: no copy per frame, but valid only until the next fill, so a
    consumer that keeps the bytes must copy them. A frame larger than the
    buffer grows it just for that frame.
    """

    def __init__(self, size: int = RECV_BUFFER_SIZE) -> None:
        self._size = size
        self._buf = bytearray(size)
        self._view = memoryview(self._buf)
        self._start = 0
        self._end = 0

    @property
    def buffered(self) -> int:
        return self._end - self._start

    def recv_into(self, sock, flags: int = 0) -> int:
        """One recv; returns the byte count (0 = EOF). BlockingIOError
        propagates for a non-blocking poll that finds nothing."""
        self._make_room()
        n = sock.recv_into(self._view[self._end:], 0, flags)
        self._end += n
        return n

    def feed(self, data) -> None:
        """Append bytes received some other way (tests, tools)."""
        self._make_room(len(data))
        end = self._end + len(data)
        self._buf[self._end:end] = data
        self._end = end

    def frames(self):
        buf = self._buf
        view = self._view
        start = self._start
        end = self._end
        unpack = HEADER.unpack_from
        while end - start >= HEADER_SIZE:
            ftype, flags, _reserved, stream, length = unpack(buf, start)
            # Checked as soon as the header is in, before waiting for up to
            # 16 MiB of a payload that is garbage anyway.
            if ftype not in TYPE_NAMES:
                raise FrameError("unknown frame type 0x%02x" % ftype)
            if length > MAX_PAYLOAD:
                raise FrameError("payload length %d exceeds MAX_PAYLOAD" % length)
            stop = start + HEADER_SIZE + length
            if stop > end:
                break
            self._start = stop
            yield ftype, flags, stream, view[start + HEADER_SIZE:stop]
            start = stop

    def _make_room(self, extra: int = 0) -> None:
        start, end = self._start, self._end
        capacity = len(self._buf)
        pending = end - start
        if pending == 0:
            self._start = self._end = 0
            if capacity > 4 * self._size or extra > capacity:
                # A huge frame is gone: give its memory back.
                self._resize(max(self._size, extra))
            return
        need = HEADER_SIZE
        if pending >= HEADER_SIZE:
            need += _LENGTH.unpack_from(self._buf, start + 8)[0]
        need = max(need, pending + extra)
        if start + need <= capacity and (start == 0 or capacity - end >= max(extra, _MIN_RECV)):
            return
        # Copy out first: moving an overlapping range inside one bytearray
        # through slice assignment is not guaranteed to be a memmove.
        data = bytes(self._view[start:end])
        if need > capacity:
            # Room for this frame and a normal read after it, so a run of
            # frames bigger than the default buffer is not copied each time.
            self._resize(need + self._size)
        self._buf[0:pending] = data
        self._start, self._end = 0, pending

    def _resize(self, size: int) -> None:
        # A new buffer rather than a resize: payload views handed out earlier
        # pin the old one (a bytearray with exports cannot change size).
        self._buf = bytearray(size)
        self._view = memoryview(self._buf)
