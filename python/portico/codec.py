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

Stream id 0 is the channel itself (READY, BOOT_ERROR, STOP, SPAWN,
WORKER_EXIT); request streams use ids >= 1, chosen by the front. SPAWN and
WORKER_EXIT are spoken only on a --preload zygote's channel.

Payloads:
    REQUEST        { u16 key length, key, u32 value length, value } ...
                   with SHARED_ENVIRON: u32 length of a shared block, that
                   block, then the request's own block
    REQUEST_BODY   raw bytes            RESPONSE_BODY  raw bytes
    WINDOW         u32 n                WANT_BODY      u32 n
    READY          u32 pid              BOOT_ERROR     utf-8 text
    RESPONSE_HEAD  u16 status, u16 reason length, reason,
                   then { u16 name length, name, u32 value length, value } ...
    FILE           u64 offset, u64 length (FILE_TO_EOF = to end of file), path bytes
    ERROR          u16 status, utf-8 text
    WORKER_EXIT    u32 pid, u32 wait status (as os.waitpid gives it)
    REQUEST_END, CANCEL, STOP, SPAWN, ACCEPT, RESPONSE_END: empty

The hot path (channel.py) calls the payload functions directly; ``encode`` and
``decode`` work on whole frames and the message dicts of the golden file, for
tests and tools.
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
# Worker -> front.
READY = 0x81
BOOT_ERROR = 0x82
ACCEPT = 0x83
RESPONSE_HEAD = 0x84
RESPONSE_BODY = 0x85
RESPONSE_END = 0x86
FILE = 0x87
WANT_BODY = 0x88
ERROR = 0x89
WORKER_EXIT = 0x8A

TYPE_NAMES = {
    REQUEST: "REQUEST", REQUEST_BODY: "REQUEST_BODY", REQUEST_END: "REQUEST_END",
    CANCEL: "CANCEL", WINDOW: "WINDOW", STOP: "STOP", SPAWN: "SPAWN",
    READY: "READY", BOOT_ERROR: "BOOT_ERROR", ACCEPT: "ACCEPT",
    RESPONSE_HEAD: "RESPONSE_HEAD", RESPONSE_BODY: "RESPONSE_BODY",
    RESPONSE_END: "RESPONSE_END", FILE: "FILE", WANT_BODY: "WANT_BODY", ERROR: "ERROR",
    WORKER_EXIT: "WORKER_EXIT",
}
TYPE_CODES = {name: code for code, name in TYPE_NAMES.items()}
FRONT_TYPES = frozenset((REQUEST, REQUEST_BODY, REQUEST_END, CANCEL, WINDOW, STOP, SPAWN))

# Flags.
HAS_BODY = 0x01         # REQUEST
EXPECT_CONTINUE = 0x02  # REQUEST: the first WANT_BODY makes the front send 100 Continue
# REQUEST: the payload begins with a block of variables many requests share,
# which a worker may decode once and reuse for the same bytes (split_request).
SHARED_ENVIRON = 0x04
ABORTED = 0x01          # REQUEST_END: the client vanished before the whole body came
# RESPONSE_END: the response is broken and the connection must carry no other.
# The front closes it after the declared body if all of that went out (an
# application that sent more, cut at its Content-Length), at once otherwise.
ABORT = 0x01

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
    """A REQUEST payload as (shared block or None, the request's own block)."""
    if not flags & SHARED_ENVIRON:
        return None, payload
    if len(payload) < 4:
        raise FrameError("truncated shared environ length")
    end = 4 + _U32.unpack_from(payload)[0]
    if end > len(payload):
        raise FrameError("shared environ block overruns the REQUEST payload")
    return payload[4:end], payload[end:]


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


# ------------------------------------------------- whole frames <-> messages

def encode(type_name: str, flags: int, stream: int, message: dict) -> bytes:
    """A whole frame from a golden-file message dict."""
    ftype = TYPE_CODES[type_name]
    if ftype == REQUEST and "shared" in message:
        shared = encode_environ(message["shared"])
        payload = encode_u32(len(shared)) + shared + encode_environ(message["environ"])
    elif ftype == REQUEST:
        payload = encode_environ(message["environ"])
    elif ftype in (REQUEST_BODY, RESPONSE_BODY):
        payload = bytes.fromhex(message["data_hex"])
    elif ftype in (WINDOW, WANT_BODY):
        payload = encode_u32(message["n"])
    elif ftype == READY:
        payload = encode_u32(message["pid"])
    elif ftype == BOOT_ERROR:
        payload = message["text"].encode("utf-8")
    elif ftype == RESPONSE_HEAD:
        payload = encode_response_head(message["status"], message["reason"], message["headers"])
    elif ftype == FILE:
        payload = encode_file(message["offset"], message["length"], message["path"])
    elif ftype == ERROR:
        payload = encode_error(message["status"], message["text"])
    elif ftype == WORKER_EXIT:
        payload = encode_worker_exit(message["pid"], message["status"])
    else:
        payload = b""
    return encode_frame(ftype, flags, stream, payload)


def decode_message(ftype: int, flags: int, payload) -> dict:
    if ftype == REQUEST:
        shared, own = split_request(flags, payload)
        if shared is None:
            return {"environ": decode_environ_pairs(own)}
        return {"shared": decode_environ_pairs(shared), "environ": decode_environ_pairs(own)}
    if ftype in (REQUEST_BODY, RESPONSE_BODY):
        return {"data_hex": bytes(payload).hex()}
    if ftype in (WINDOW, WANT_BODY):
        return {"n": decode_u32(payload)}
    if ftype == READY:
        return {"pid": decode_u32(payload)}
    if ftype == BOOT_ERROR:
        return {"text": str(payload, "utf-8", "replace")}
    if ftype == RESPONSE_HEAD:
        status, reason, headers = decode_response_head(payload)
        return {"status": status, "reason": reason, "headers": headers}
    if ftype == FILE:
        offset, length, path = decode_file(payload)
        return {"offset": offset, "length": length, "path": os.fsdecode(path)}
    if ftype == ERROR:
        status, text = decode_error(payload)
        return {"status": status, "text": text}
    if ftype == WORKER_EXIT:
        pid, status = decode_worker_exit(payload)
        return {"pid": pid, "status": status}
    if len(payload):
        raise FrameError("%s carries no payload, got %d bytes" % (TYPE_NAMES[ftype], len(payload)))
    return {}


def decode(data):
    """One whole frame -> (type name, flags, stream, message dict)."""
    decoder = FrameDecoder()
    decoder.feed(data)
    frames = [(f, fl, s, decode_message(f, fl, p)) for f, fl, s, p in decoder.frames()]
    if len(frames) != 1 or decoder.buffered:
        raise FrameError("expected exactly one whole frame")
    ftype, flags, stream, message = frames[0]
    return TYPE_NAMES[ftype], flags, stream, message


# ------------------------------------------------------ incremental decoder

RECV_BUFFER_SIZE = 256 * 1024
# Fewer free bytes than this at the tail and the partial frame moves to the
# front first, so recv_into never crawls along in tiny reads.
_MIN_RECV = 16 * 1024


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
            need += _U32.unpack_from(self._buf, start + 8)[0]
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
