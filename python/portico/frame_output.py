"""The frames waiting to go to the front, and writing them with sendmsg.

A frame's header, and any payload under BY_REFERENCE bytes, is copied into
a bytearray; a larger payload (a response body block) is kept by reference
behind it, so a body goes from the application's bytes to the kernel with
no copy in between: one sendmsg (scatter/gather, POSIX writev semantics)
takes the whole list.

    parts:  [ bytearray: STARTED, HEAD, BODY header ][ body bytes ][ bytearray: END ... ]

Only immutable payloads are kept by reference (bytes, or a read-only view
of bytes, which is what the links slice a large body into): the caller may
reuse anything else, such as the receive buffer a PONG's nonce is a view of.

sendmsg may write less than it was given: a signal interrupts a blocking
send once some bytes are in, and a non-blocking one writes what the socket
has room for. What went out is dropped from the front of the list (a
bytearray loses its sent prefix, a kept payload becomes a view of its rest),
so the next write starts at the first byte not sent.
"""
from __future__ import annotations

import os

# A payload this large is referenced, not copied: below it a copy costs
# less than the list entry and iovec it would take.
BY_REFERENCE = 16 * 1024
# sendmsg takes at most IOV_MAX buffers (1024 on Linux).
try:
    _IOV_MAX = min(os.sysconf("SC_IOV_MAX"), 1024)
except (AttributeError, ValueError, OSError):
    _IOV_MAX = 16


class FrameOutput:
    """Frames queued for the channel, in order. ``size`` is every byte
    queued; ``copied`` the part of it held in this object's own buffers
    (what the batching threshold bounds: a referenced body costs no memory
    here, its owner holds it anyway)."""

    __slots__ = ("_parts", "_tail", "size", "copied")

    def __init__(self) -> None:
        self._parts = []
        # The bytearray small frames are appended to: the last part, or None
        # when the last part is a referenced payload (or nothing is queued).
        self._tail = None
        self.size = 0
        self.copied = 0

    def __bool__(self) -> bool:
        return self.size > 0

    def __len__(self) -> int:
        return self.size

    def add(self, header: bytes, payload=b"") -> None:
        n = len(payload)
        tail = self._tail
        if tail is None:
            tail = self._tail = bytearray(header)
            self._parts.append(tail)
        else:
            tail += header
        if n >= BY_REFERENCE and (isinstance(payload, bytes) or (type(payload) is memoryview and payload.readonly)):
            self._parts.append(payload)
            self._tail = None
            self.copied += len(header)
        else:
            tail += payload
            self.copied += len(header) + n
        self.size += len(header) + n

    def clear(self) -> None:
        self._parts = []
        self._tail = None
        self.size = self.copied = 0

    def write(self, sock) -> int:
        """One sendmsg of what is queued (at most IOV_MAX buffers); what it
        wrote is dropped. Returns the byte count. A non-blocking socket
        with no room raises BlockingIOError, as sendmsg does."""
        parts = self._parts
        if not parts:
            return 0
        n = sock.sendmsg(parts if len(parts) <= _IOV_MAX else parts[:_IOV_MAX])
        self._consume(n)
        return n

    def write_all(self, sock) -> None:
        """Everything queued, on a blocking socket (partial writes resumed)."""
        while self._parts:
            self.write(sock)

    def _consume(self, n: int) -> None:
        self.size -= n
        parts = self._parts
        done = 0
        while n:
            part = parts[done]
            length = len(part)
            if n < length:
                if type(part) is bytearray:
                    # Drops the prefix by moving the array's start, no copy.
                    del part[:n]
                else:
                    parts[done] = memoryview(part)[n:]
                break
            n -= length
            done += 1
        if done:
            del parts[:done]
        if not parts:
            self._tail = None
            self.size = self.copied = 0
        else:
            self.copied = sum([len(part) for part in parts if type(part) is bytearray])
