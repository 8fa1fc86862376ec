"""A REQUEST's environ blocks -> the dict a WSGI application gets.

PEP 3333 "environ Variables" wants a fresh dict per request, which the
application may change at will. Most of an environ is the same for every
request to a mount through one listener with one Host; the front sends that
part as a block of its own (docs/protocol.md "Shared environ"), decoded here
once per distinct block and copied for each request (a hello-world environ,
in-process: 4.9 us -> 3.4-3.8 us).
"""
from __future__ import annotations

from .codec import decode_environ

# Shared blocks remembered, decoded: one per mount, listener and Host in
# practice. A front that sends more (many Host names) only costs the decoding
# each time: the memory is emptied when full.
SHARED_ENVIRONS = 64


class EnvironDecoder:
    __slots__ = ("_shared",)

    def __init__(self) -> None:
        self._shared = {}

    def decode(self, shared, own) -> dict:
        """A fresh environ from the request's own block and, unless None,
        the shared block it came with (codec.split_request)."""
        if shared is None:
            return decode_environ(own)
        key = bytes(shared)
        base = self._shared.get(key)
        if base is None:
            base = decode_environ(shared)
            if len(self._shared) >= SHARED_ENVIRONS:
                self._shared.clear()
            self._shared[key] = base
        return decode_environ(own, dict(base))

    @property
    def remembered(self) -> int:
        """How many shared blocks are kept decoded (tests)."""
        return len(self._shared)
