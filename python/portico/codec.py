"""The frame codec of the front <-> worker channel (docs/protocol.md).

Mirrors src/ipc/frame-codec.ts; both are tested against the same
test/fixtures/golden-frames.json. All integers big-endian; environ and header
strings are latin-1 ("bytes-as-str", PEP 3333 "Unicode Issues").

Frame = 12-byte header + payload:

     0        1        2        3        4        5        6        7        8        9       10       11
    +--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+
    |  type  | flags  |  reserved (0)   |        stream id (u32 BE)         |      payload length (u32 BE)      |
    +--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+--------+
    | payload ... (payload length bytes, at most MAX_PAYLOAD = 16 MiB = 16777216)
    +-----------------

Type codes 0x01-0x3F go front -> worker, 0x40-0x7F either way, 0x80-0xFF
worker -> front. Stream id 0 is the channel itself (READY, BOOT_ERROR, STOP,
SPAWN, WORKER_EXIT); request streams use ids >= 1, chosen by the front.
SPAWN and WORKER_EXIT are spoken only on a --preload zygote's channel.
PING and PONG (stream 0) are the front's heartbeat of an ASGI worker's event
loop.

Payloads:
    REQUEST        [ u32 shared length, shared block ]       with SHARED_ENVIRON
                   [ u32 head length, head block ]           with HAS_HEAD (request_head.py)
                   the request's own block
                   where a block is { u16 key length, key, u32 value length, value } ...
    REQUEST_BODY   raw bytes            RESPONSE_BODY  raw bytes
    WINDOW         u32 n                WANT_BODY      u32 n
    PING           u32 nonce            PONG           u32 nonce (PING's)
    READY          u32 pid, u16 protocol version, u32 capability bits
    BOOT_ERROR     utf-8 text
    RESPONSE_HEAD  u16 status, u16 reason length, reason,
                   then { u16 name length, name, u32 value length, value } ...
    FILE           u64 offset, u64 length (FILE_TO_EOF = to end of file), path bytes
    RESPONSE_TRAILERS, EARLY_HINTS
                   { u16 name length, name, u32 value length, value } ...
    ERROR          u16 status, utf-8 text
    WORKER_EXIT    u32 pid, u32 wait status (as os.waitpid gives it)
    WEBSOCKET_ACCEPT   u16 subprotocol length, subprotocol (empty: none),
                       then { u16 name length, name, u32 value length, value } ...
    WEBSOCKET_MESSAGE  the message: utf-8 text with flag TEXT, else binary
    WEBSOCKET_CLOSE    u16 close code, utf-8 reason
    REQUEST_END, CANCEL, STOP, SPAWN, STARTED, RESPONSE_END: empty

The WebSocket types run an ASGI websocket scope (docs/protocol.md "WebSocket
frames"): a REQUEST with WEBSOCKET, then whole messages both ways. A WSGI
worker never gets them, and treats one as a protocol error.

The WebSocket payloads' functions are in websocket_payloads.py (as
src/ipc/websocket-payloads.ts beside frame-codec.ts). The hot path
(frame_link.py) calls the payload functions directly;
frame_messages.py turns whole frames into the message dicts of the golden
file, for tests and tools.
"""
from __future__ import annotations

import os
import struct

from .errors import FrameError

# Front -> worker.
REQUEST = 0x01
REQUEST_BODY = 0x02
REQUEST_END = 0x03
CANCEL = 0x04
WINDOW = 0x05
STOP = 0x06
SPAWN = 0x07
PING = 0x08
# Either way: RFC 6455 5.5.1, 5.6, both peers send data and close frames.
WEBSOCKET_MESSAGE = 0x41
WEBSOCKET_CLOSE = 0x42
# Worker -> front.
READY = 0x81
BOOT_ERROR = 0x82
STARTED = 0x83
RESPONSE_HEAD = 0x84
RESPONSE_BODY = 0x85
RESPONSE_END = 0x86
FILE = 0x87
WANT_BODY = 0x88
ERROR = 0x89
WORKER_EXIT = 0x8A
WEBSOCKET_ACCEPT = 0x8B
PONG = 0x8C
RESPONSE_TRAILERS = 0x8D
EARLY_HINTS = 0x8E

TYPE_NAMES = {
    REQUEST: "REQUEST", REQUEST_BODY: "REQUEST_BODY", REQUEST_END: "REQUEST_END",
    CANCEL: "CANCEL", WINDOW: "WINDOW", STOP: "STOP", SPAWN: "SPAWN", PING: "PING",
    WEBSOCKET_MESSAGE: "WEBSOCKET_MESSAGE", WEBSOCKET_CLOSE: "WEBSOCKET_CLOSE",
    READY: "READY", BOOT_ERROR: "BOOT_ERROR", STARTED: "STARTED",
    RESPONSE_HEAD: "RESPONSE_HEAD", RESPONSE_BODY: "RESPONSE_BODY",
    RESPONSE_END: "RESPONSE_END", FILE: "FILE", WANT_BODY: "WANT_BODY", ERROR: "ERROR",
    WORKER_EXIT: "WORKER_EXIT", WEBSOCKET_ACCEPT: "WEBSOCKET_ACCEPT", PONG: "PONG",
    RESPONSE_TRAILERS: "RESPONSE_TRAILERS", EARLY_HINTS: "EARLY_HINTS",
}
TYPE_CODES = {name: code for code, name in TYPE_NAMES.items()}
FRONT_TYPES = frozenset((REQUEST, REQUEST_BODY, REQUEST_END, CANCEL, WINDOW, STOP, SPAWN, PING,
                         WEBSOCKET_MESSAGE, WEBSOCKET_CLOSE))
WEBSOCKET_TYPES = frozenset((WEBSOCKET_MESSAGE, WEBSOCKET_CLOSE, WEBSOCKET_ACCEPT))

# The protocol this codec speaks, in READY. The front refuses a worker whose
# runtime speaks another: the two halves come from different portico versions.
PROTOCOL_VERSION = 2
# READY's capability bits: what the worker's runtime can serve.
CAP_WSGI = 0x01
CAP_ASGI = 0x02
CAP_WEBSOCKET = 0x04

# Flags.
HAS_BODY = 0x01         # REQUEST
EXPECT_CONTINUE = 0x02  # REQUEST: the first WANT_BODY makes the front send 100 Continue
# REQUEST: the payload begins with a block of variables many requests share,
# which a worker may decode once and reuse for the same bytes (split_request).
SHARED_ENVIRON = 0x04
# REQUEST: a protocol-neutral head block (request_head.py) follows the shared
# environ block, for what no WSGI environ can give back (ASGI's raw_path,
# the header list as received).
HAS_HEAD = 0x08
# REQUEST: the client asks to open a WebSocket (RFC 6455 4.1), for an ASGI
# websocket scope; always with HAS_HEAD, never with HAS_BODY.
WEBSOCKET = 0x10
ABORTED = 0x01          # REQUEST_END: the client vanished before the whole body came
# CANCEL: the front gave up on the request (--timeout) and has answered 504
# itself; an ASGI worker cancels the request's task. Without it a CANCEL
# means the client left (or the front refused the response).
TIMED_OUT = 0x01
# READY: this worker runs its application as ASGI (what "auto" resolved to);
# the front sends it request heads (HAS_HEAD) and pings its event loop.
ASGI = 0x01
# RESPONSE_END: the response is broken and the connection must carry no other.
# The front closes it after the declared body if all of that went out (an
# application that sent more, cut at its Content-Length), at once otherwise.
ABORT = 0x01
TEXT = 0x01             # WEBSOCKET_MESSAGE: a text message (RFC 6455 5.6, opcode 0x1)

HEADER_SIZE = 12
MAX_PAYLOAD = 16 * 1024 * 1024
FILE_TO_EOF = 0xFFFFFFFFFFFFFFFF

# Flow control, identical in both codecs (docs/protocol.md "Constants").
REQUEST_WINDOW = 1048576
RESPONSE_WINDOW = 1048576
MAX_CHUNK = 262144

HEADER = struct.Struct(">BBHII")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_STATUS_REASON = struct.Struct(">HH")
_FILE_RANGE = struct.Struct(">QQ")
_READY = struct.Struct(">IHI")


def frame_header(ftype: int, flags: int, stream: int, length: int) -> bytes:
    if length > MAX_PAYLOAD:
        raise FrameError("payload of %d bytes exceeds MAX_PAYLOAD" % length)
    return HEADER.pack(ftype, flags, 0, stream, length)


def encode_frame(ftype: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return frame_header(ftype, flags, stream, len(payload)) + payload


# ---------------------------------------------------------------- payloads

def encode_u32(n: int) -> bytes:
    return _U32.pack(n)


def decode_u32(payload) -> int:
    if len(payload) != 4:
        raise FrameError("expected a 4-byte u32 payload, got %d bytes" % len(payload))
    return _U32.unpack_from(payload)[0]


def encode_environ(pairs) -> bytes:
    parts = []
    for key, value in pairs:
        k = key.encode("latin-1")
        v = value.encode("latin-1")
        if len(k) > 0xFFFF:
            raise FrameError("environ key longer than 65535 bytes")
        parts += (_U16.pack(len(k)), k, _U32.pack(len(v)), v)
    return b"".join(parts)


def split_request(flags: int, payload):
    """A REQUEST payload as (shared block or None, head block or None, the
    request's own block)."""
    if flags & SHARED_ENVIRON:
        # Written out, not through _length_prefixed: every request to a WSGI
        # mount comes this way.
        if len(payload) < 4:
            raise FrameError("truncated shared environ length")
        start = 4 + _U32.unpack_from(payload)[0]
        if start > len(payload):
            raise FrameError("shared environ block overruns the REQUEST payload")
        if not flags & HAS_HEAD:
            return payload[4:start], None, payload[start:]
        shared = payload[4:start]
    elif flags & HAS_HEAD:
        shared = None
        start = 0
    else:
        return None, None, payload
    head, start = _length_prefixed(payload, start, "request head")
    return shared, head, payload[start:]


def _length_prefixed(payload, start: int, what: str):
    if len(payload) < start + 4:
        raise FrameError("truncated %s length" % what)
    end = start + 4 + _U32.unpack_from(payload, start)[0]
    if end > len(payload):
        raise FrameError("%s block overruns the REQUEST payload" % what)
    return payload[start + 4:end], end


def decode_environ(payload, environ=None) -> dict:
    """An environ block as a new dict, or added to ``environ``: PEP 3333
    wants a fresh environ per request, so the executor may fill it in place."""
    # latin-1 maps byte n to code point n, so the whole block is decoded at
    # once and keys and values are cut out of that str at the byte offsets:
    # one decode per request instead of two per variable.
    text = str(payload, "latin-1")
    if environ is None:
        environ = {}
    end = len(text)
    pos = 0
    unpack_u16 = _U16.unpack_from
    unpack_u32 = _U32.unpack_from
    try:
        while pos < end:
            key_start = pos + 2
            key_end = key_start + unpack_u16(payload, pos)[0]
            value_start = key_end + 4
            pos = value_start + unpack_u32(payload, key_end)[0]
            environ[text[key_start:key_end]] = text[value_start:pos]
    except struct.error:
        raise FrameError("truncated environ block in REQUEST payload") from None
    if pos > end:
        raise FrameError("environ value overruns the REQUEST payload")
    return environ


def decode_environ_pairs(payload) -> list:
    """The block as ordered [key, value] pairs (golden file, tools)."""
    text = str(payload, "latin-1")
    pairs = []
    end = len(text)
    pos = 0
    try:
        while pos < end:
            key_start = pos + 2
            key_end = key_start + _U16.unpack_from(payload, pos)[0]
            value_start = key_end + 4
            pos = value_start + _U32.unpack_from(payload, key_end)[0]
            pairs.append([text[key_start:key_end], text[value_start:pos]])
    except struct.error:
        raise FrameError("truncated environ block") from None
    if pos > end:
        raise FrameError("environ value overruns its block")
    return pairs


def encode_ready(pid: int, version: int = PROTOCOL_VERSION, capabilities: int = 0) -> bytes:
    return _READY.pack(pid, version, capabilities)


def decode_ready(payload):
    """(pid, version, capabilities). Later versions may append fields, so
    only the first 10 bytes are read; 4 bytes (a pid alone) come from a
    runtime older than versioning, version 0."""
    if len(payload) == 4:
        return _U32.unpack_from(payload)[0], 0, 0
    if len(payload) < _READY.size:
        raise FrameError("truncated READY payload")
    return _READY.unpack_from(payload)


_PID_STATUS = struct.Struct(">II")


def encode_worker_exit(pid: int, status: int) -> bytes:
    return _PID_STATUS.pack(pid, status)


def decode_worker_exit(payload):
    if len(payload) != _PID_STATUS.size:
        raise FrameError("expected an 8-byte WORKER_EXIT payload, got %d bytes" % len(payload))
    return _PID_STATUS.unpack_from(payload)


def encode_response_head(status: int, reason: str, headers) -> bytes:
    r = reason.encode("latin-1")
    parts = [_STATUS_REASON.pack(status, len(r)), r]
    for name, value in headers:
        n = name.encode("latin-1")
        v = value.encode("latin-1")
        parts += (_U16.pack(len(n)), n, _U32.pack(len(v)), v)
    return b"".join(parts)


def decode_response_head(payload):
    try:
        status, rlen = _STATUS_REASON.unpack_from(payload, 0)
        pos = 4 + rlen
        if pos > len(payload):
            raise FrameError("reason overruns the RESPONSE_HEAD payload")
        reason = str(payload[4:pos], "latin-1")
        headers = decode_environ_pairs(payload[pos:])
    except struct.error:
        raise FrameError("truncated RESPONSE_HEAD payload") from None
    return status, reason, headers


def encode_fields(fields) -> bytes:
    """A pair list from (name, value) bytes pairs, as the ASGI side holds
    header fields (RESPONSE_TRAILERS, EARLY_HINTS, RESPONSE_HEAD's list)."""
    parts = []
    for name, value in fields:
        if len(name) > 0xFFFF:
            raise FrameError("header field name longer than 65535 bytes")
        parts += (_U16.pack(len(name)), name, _U32.pack(len(value)), value)
    return b"".join(parts)


def encode_response_head_fields(status: int, fields) -> bytes:
    """RESPONSE_HEAD from bytes fields and no reason phrase (ASGI has none:
    the front sends the status code's own)."""
    return _STATUS_REASON.pack(status, 0) + encode_fields(fields)


def encode_trailers(headers) -> bytes:
    """RESPONSE_TRAILERS or EARLY_HINTS from latin-1 str pairs (as
    RESPONSE_HEAD's list): trailer fields after the last RESPONSE_BODY
    and before RESPONSE_END, or the fields of a 103 Early Hints (RFC 8297)
    sent before RESPONSE_HEAD."""
    return encode_environ(headers)


def decode_trailers(payload) -> list:
    """RESPONSE_TRAILERS' or EARLY_HINTS' [[name, value], ...], latin-1 str."""
    return decode_environ_pairs(payload)


def encode_file(offset: int, length, path) -> bytes:
    """length None means to the end of the file."""
    if length is None:
        length = FILE_TO_EOF
    return _FILE_RANGE.pack(offset, length) + os.fsencode(path)


def decode_file(payload):
    if len(payload) < 16:
        raise FrameError("truncated FILE payload")
    offset, length = _FILE_RANGE.unpack_from(payload, 0)
    return offset, (None if length == FILE_TO_EOF else length), bytes(payload[16:])


def encode_error(status: int, text: str) -> bytes:
    # backslashreplace: a traceback may hold lone surrogates (undecodable file
    # names); the log line matters more than strict utf-8.
    return _U16.pack(status) + text.encode("utf-8", "backslashreplace")


def decode_error(payload):
    if len(payload) < 2:
        raise FrameError("truncated ERROR payload")
    return _U16.unpack_from(payload, 0)[0], str(payload[2:], "utf-8", "replace")


# At most 6 bytes per character (4 in utf-8, 6 for a lone surrogate written
# as a \udcXX escape): this many characters always fit one frame.
_MAX_TEXT_CHARS = (MAX_PAYLOAD - 2) // 6


def fit_text(text: str) -> str:
    """A log text cut to fit one frame (ERROR, BOOT_ERROR): a frame too big
    to build would lose the report altogether."""
    if len(text) <= _MAX_TEXT_CHARS:
        return text
    note = "\n[... cut by portico: %d characters in all]" % len(text)
    return text[:_MAX_TEXT_CHARS - len(note)] + note
