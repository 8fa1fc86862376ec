"""The protocol-neutral head of a request: the REQUEST block under HAS_HEAD.

A WSGI environ cannot give back what ASGI's scope needs (HTTP & WebSocket
spec 2.4, "HTTP Connection Scope"): the header list with its order and
duplicates, the path as received, the server as a (host, port) pair. The
front sends these as they are, in a block of their own; WSGI mounts get no
head and build their environ exactly as before. Mirrors
src/ipc/request-head.ts.

    u16 length, method               ASCII, as received ("GET")
    u16 length, scheme               "http" or "https"
    u16 length, http_version         "1.0", "1.1" or "2"
    u32 length, path                 bytes: percent-decoded and dot-normalised, as
                                     the router produced it (SCRIPT_NAME + PATH_INFO,
                                     the mount prefix included)
    u32 length, raw_path             bytes: the request target's path as received, no query
    u32 length, query_string         bytes: as received, without the "?"
    u32 length, root_path            bytes: the mount prefix, or --root-path
    address client                   the peer, or none
    address server                   the listener: host and port, or a UNIX socket path
    u8 tls                           0: not over TLS; 1: a TLS block follows
    { u16 name length, name, u32 value length, value } ...   the header fields
                                     to the end of the block, in order, duplicates
                                     kept, names lowercased (RFC 9110 5.1)

    address = u8 kind, then for kind 1 (host and port): u16 length, host, u16 port;
              for kind 2 (a UNIX socket): u16 length, path; for kind 0 (none): nothing

    TLS block, the ASGI TLS extension (asgiref "TLS extension"):
      u16 tls_version                0x0303 TLS 1.2, 0x0304 TLS 1.3; 0 unknown
      u16 cipher_suite               its IANA number; 0 unknown (0x0000 is never negotiated)
      u32 length, server_cert        PEM; empty when unknown
      u16 length, client_cert_name   RFC 4514, UTF-8; empty without a client certificate
      u16 count, { u32 length, PEM } ...   client_cert_chain, the client's own first
"""
from __future__ import annotations

import struct

from .errors import FrameError

NO_ADDRESS = 0
HOST_PORT = 1
UNIX_PATH = 2

_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


class RequestHead:
    """What the front knows of a request beside its environ. Byte fields are
    bytes; ``client`` is (host, port) or None; ``server`` is (host, port), or
    (unix socket path, None)."""

    __slots__ = ("method", "scheme", "http_version", "path", "raw_path", "query_string",
                 "root_path", "headers", "client", "server", "tls")

    def __init__(self, method: str, scheme: str, http_version: str, path: bytes, raw_path: bytes,
                 query_string: bytes, root_path: bytes, headers, client, server, tls=None) -> None:
        self.method = method
        self.scheme = scheme
        self.http_version = http_version
        self.path = path
        self.raw_path = raw_path
        self.query_string = query_string
        self.root_path = root_path
        self.headers = headers
        self.client = client
        self.server = server
        # The ASGI TLS extension's dict (client_cert_error always None: the
        # front refuses a certificate that fails verification), or None.
        self.tls = tls

    def __eq__(self, other) -> bool:
        if not isinstance(other, RequestHead):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def __repr__(self) -> str:
        return "RequestHead(%s)" % ", ".join("%s=%r" % (name, getattr(self, name)) for name in self.__slots__)


def encode_request_head(head: RequestHead) -> bytes:
    parts = []
    for text in (head.method, head.scheme, head.http_version):
        data = text.encode("latin-1")
        parts += (_U16.pack(len(data)), data)
    for data in (head.path, head.raw_path, head.query_string, head.root_path):
        parts += (_U32.pack(len(data)), data)
    _encode_address(parts, head.client)
    _encode_address(parts, head.server)
    _encode_tls(parts, head.tls)
    for name, value in head.headers:
        parts += (_U16.pack(len(name)), name.lower(), _U32.pack(len(value)), value)
    return b"".join(parts)


def _encode_address(parts: list, address) -> None:
    if address is None:
        parts.append(_U8.pack(NO_ADDRESS))
        return
    host, port = address
    data = host.encode("utf-8", "surrogateescape")
    if port is None:
        parts += (_U8.pack(UNIX_PATH), _U16.pack(len(data)), data)
    else:
        parts += (_U8.pack(HOST_PORT), _U16.pack(len(data)), data, _U16.pack(port))


def _encode_tls(parts: list, tls) -> None:
    if tls is None:
        parts.append(_U8.pack(0))
        return
    server_cert = (tls["server_cert"] or "").encode("utf-8")
    name = (tls["client_cert_name"] or "").encode("utf-8")
    parts += (_U8.pack(1), _U16.pack(tls["tls_version"] or 0), _U16.pack(tls["cipher_suite"] or 0),
              _U32.pack(len(server_cert)), server_cert, _U16.pack(len(name)), name,
              _U16.pack(len(tls["client_cert_chain"])))
    for pem in tls["client_cert_chain"]:
        data = pem.encode("utf-8")
        parts += (_U32.pack(len(data)), data)


def decode_request_head(block) -> RequestHead:
    """The head block of a REQUEST (codec.split_request), copied out of the
    receive buffer: the head outlives the read that brought it."""
    try:
        reader = _Reader(bytes(block))
        method = reader.text16()
        scheme = reader.text16()
        http_version = reader.text16()
        path = reader.bytes32()
        raw_path = reader.bytes32()
        query_string = reader.bytes32()
        root_path = reader.bytes32()
        client = reader.address()
        server = reader.address()
        tls = reader.tls()
        headers = reader.pairs()
    except struct.error:
        raise FrameError("truncated request head") from None
    if server is None:
        raise FrameError("a request head without a server address")
    return RequestHead(method, scheme, http_version, path, raw_path, query_string, root_path,
                       headers, client, server, tls)


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data):
            raise FrameError("a request head field overruns its block")
        value = self.data[self.pos:end]
        self.pos = end
        return value

    def number(self, unpacker) -> int:
        value = unpacker.unpack_from(self.data, self.pos)[0]
        self.pos += unpacker.size
        return value

    def text16(self) -> str:
        return str(self.take(self.number(_U16)), "latin-1")

    def bytes32(self) -> bytes:
        return self.take(self.number(_U32))

    def address(self):
        kind = self.number(_U8)
        if kind == NO_ADDRESS:
            return None
        host = self.take(self.number(_U16)).decode("utf-8", "surrogateescape")
        if kind == UNIX_PATH:
            return host, None
        if kind == HOST_PORT:
            return host, self.number(_U16)
        raise FrameError("unknown address kind %d in a request head" % kind)

    def tls(self):
        marker = self.number(_U8)
        if marker == 0:
            return None
        if marker != 1:
            raise FrameError("unknown TLS marker %d in a request head" % marker)
        version = self.number(_U16)
        cipher = self.number(_U16)
        server_cert = self.take(self.number(_U32)).decode("utf-8")
        name = self.take(self.number(_U16)).decode("utf-8")
        chain = [self.take(self.number(_U32)).decode("utf-8") for _ in range(self.number(_U16))]
        return {
            "server_cert": server_cert or None,
            "client_cert_chain": chain,
            "client_cert_name": name or None,
            "client_cert_error": None,
            "tls_version": version or None,
            "cipher_suite": cipher or None,
        }

    def pairs(self) -> list:
        pairs = []
        while self.pos < len(self.data):
            name = self.take(self.number(_U16))
            pairs.append((name, self.take(self.number(_U32))))
        return pairs
