"""The WebSocket frames' payloads (docs/protocol.md "WebSocket frames"),
beside codec.py as src/ipc/websocket-payloads.ts is beside frame-codec.ts,
and tested against the same golden frames.

    WEBSOCKET_ACCEPT   worker -> front   u16 subprotocol length, subprotocol (empty: none),
                                         then the extra response header fields as a pair list
    WEBSOCKET_MESSAGE  either way        the message: UTF-8 text with flag TEXT, else binary
    WEBSOCKET_CLOSE    either way        u16 close code, UTF-8 reason (RFC 6455 5.5.1)
"""
from __future__ import annotations

import struct

from .codec import decode_environ_pairs, encode_fields
from .errors import FrameError

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


def encode_websocket_accept(subprotocol, headers) -> bytes:
    """subprotocol None or a token (RFC 6455 4.2.2: Sec-WebSocket-Protocol),
    headers latin-1 (name, value) pairs added to the 101 response."""
    s = (subprotocol or "").encode("latin-1")
    parts = [_U16.pack(len(s)), s]
    for name, value in headers:
        n = name.encode("latin-1")
        v = value.encode("latin-1")
        parts += (_U16.pack(len(n)), n, _U32.pack(len(v)), v)
    return b"".join(parts)


def encode_websocket_accept_fields(subprotocol, fields) -> bytes:
    """WEBSOCKET_ACCEPT from the ASGI side: subprotocol a str or None,
    fields (name, value) bytes pairs."""
    s = (subprotocol or "").encode("latin-1")
    return _U16.pack(len(s)) + s + encode_fields(fields)


def decode_websocket_accept(payload):
    """(subprotocol or None, [[name, value], ...])."""
    if len(payload) < 2:
        raise FrameError("truncated WEBSOCKET_ACCEPT payload")
    end = 2 + _U16.unpack_from(payload)[0]
    if end > len(payload):
        raise FrameError("subprotocol overruns the WEBSOCKET_ACCEPT payload")
    subprotocol = str(payload[2:end], "latin-1") or None
    return subprotocol, decode_environ_pairs(payload[end:])


def encode_websocket_close(code: int, reason: str) -> bytes:
    # RFC 6455 5.5.1: a close frame's body is a 2-byte code, then UTF-8.
    return _U16.pack(code) + reason.encode("utf-8")


def decode_websocket_close(payload):
    if len(payload) < 2:
        raise FrameError("truncated WEBSOCKET_CLOSE payload")
    return _U16.unpack_from(payload, 0)[0], str(payload[2:], "utf-8", "replace")
