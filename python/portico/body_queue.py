"""Request body bytes received but not yet read, as the REQUEST_BODY
payloads came: each copied once out of the receive buffer (frame_decoder.py
reuses it), then handed out without another copy whenever a read takes a
whole payload, and sliced or joined only when it takes part of one or
spans several.

A bytearray with reads cut from its front, as before, copied every byte
again on each growth and each major shrink (CPython moves the data to a
fresh allocation when its start has moved), and those allocations, up to
the 1 MiB window, came and went as fresh pages: a 10 MiB upload spent more
time in page faults than in its copies.
"""
from __future__ import annotations

from collections import deque


class BodyQueue:
    __slots__ = ("_chunks", "_offset", "_size")

    def __init__(self) -> None:
        self._chunks = deque()
        # Bytes of the first chunk already handed out.
        self._offset = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        return self._size > 0

    def append(self, data) -> None:
        if data:
            self._chunks.append(bytes(data))
            self._size += len(data)

    def take(self, n: int = -1) -> bytes:
        """The first n bytes (all when n < 0 or past the end), removed."""
        size = self._size
        if n < 0 or n > size:
            n = size
        if n == 0:
            return b""
        chunks = self._chunks
        offset = self._offset
        first = chunks[0]
        rest = len(first) - offset
        if n <= rest:
            if n == rest:
                chunks.popleft()
                self._offset = 0
                piece = first if offset == 0 else first[offset:]
            else:
                self._offset = offset + n
                piece = first[offset:offset + n]
            self._size = size - n
            return piece
        parts = [memoryview(first)[offset:]]
        chunks.popleft()
        need = n - rest
        while need:
            chunk = chunks[0]
            if len(chunk) <= need:
                parts.append(chunk)
                chunks.popleft()
                need -= len(chunk)
            else:
                parts.append(memoryview(chunk)[:need])
                self._offset = need
                break
        else:
            self._offset = 0
        self._size = size - n
        return b"".join(parts)

    def line_end(self, limit: int) -> int:
        """The length of the first line (its newline included) if it ends
        within the first ``limit`` bytes (all buffered when < 0), else -1."""
        if limit < 0 or limit > self._size:
            limit = self._size
        seen = 0
        offset = self._offset
        for chunk in self._chunks:
            if seen >= limit:
                break
            end = min(len(chunk), offset + limit - seen)
            newline = chunk.find(b"\n", offset, end)
            if newline >= 0:
                return seen + newline - offset + 1
            seen += end - offset
            offset = 0
        return -1
