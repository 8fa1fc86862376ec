"""Whole frames <-> the message dicts of test/fixtures/golden-frames.json.

For tests and tools: the worker's hot path calls codec's payload functions
directly and never builds these dicts.
"""
from __future__ import annotations

import os

from .codec import (
    BOOT_ERROR, EARLY_HINTS, ERROR, FILE, PING, PONG, READY, RESPONSE_TRAILERS, REQUEST, REQUEST_BODY, RESPONSE_BODY, RESPONSE_HEAD, TEXT,
    TYPE_CODES, TYPE_NAMES, WANT_BODY, WEBSOCKET_ACCEPT, WEBSOCKET_CLOSE, WEBSOCKET_MESSAGE, WINDOW,
    WORKER_EXIT, decode_environ_pairs, decode_error, decode_file, decode_ready,
    decode_response_head, decode_u32,
    decode_trailers, decode_worker_exit, encode_environ, encode_error, encode_file, encode_frame, encode_ready,
    encode_response_head, encode_trailers, encode_u32,
    encode_worker_exit, split_request,
)
from .errors import FrameError
from .frame_decoder import FrameDecoder
from .request_head import RequestHead, decode_request_head, encode_request_head
from .websocket_payloads import (
    decode_websocket_accept, decode_websocket_close, encode_websocket_accept, encode_websocket_close,
)

def encode(type_name: str, flags: int, stream: int, message: dict) -> bytes:
    """A whole frame from a golden-file message dict."""
    ftype = TYPE_CODES[type_name]
    if ftype == REQUEST:
        # The blocks come from the message; the flags are the caller's to get right.
        payload = b""
        if "shared" in message:
            shared = encode_environ(message["shared"])
            payload += encode_u32(len(shared)) + shared
        if "head" in message:
            head = encode_request_head(head_from_message(message["head"]))
            payload += encode_u32(len(head)) + head
        payload += encode_environ(message["environ"])
    elif ftype in (REQUEST_BODY, RESPONSE_BODY):
        payload = bytes.fromhex(message["data_hex"])
    elif ftype in (WINDOW, WANT_BODY):
        payload = encode_u32(message["n"])
    elif ftype in (PING, PONG):
        payload = encode_u32(message["nonce"])
    elif ftype in (RESPONSE_TRAILERS, EARLY_HINTS):
        payload = encode_trailers(message["headers"])
    elif ftype == READY:
        payload = encode_ready(message["pid"], message["version"], message["capabilities"])
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
    elif ftype == WEBSOCKET_ACCEPT:
        payload = encode_websocket_accept(message["subprotocol"], message["headers"])
    elif ftype == WEBSOCKET_MESSAGE:
        payload = message["text"].encode("utf-8") if "text" in message else bytes.fromhex(message["data_hex"])
    elif ftype == WEBSOCKET_CLOSE:
        payload = encode_websocket_close(message["code"], message["reason"])
    else:
        payload = b""
    return encode_frame(ftype, flags, stream, payload)


def decode_message(ftype: int, flags: int, payload) -> dict:
    if ftype == REQUEST:
        shared, head, own = split_request(flags, payload)
        message = {}
        if shared is not None:
            message["shared"] = decode_environ_pairs(shared)
        if head is not None:
            message["head"] = head_to_message(decode_request_head(head))
        message["environ"] = decode_environ_pairs(own)
        return message
    if ftype in (REQUEST_BODY, RESPONSE_BODY):
        return {"data_hex": bytes(payload).hex()}
    if ftype in (WINDOW, WANT_BODY):
        return {"n": decode_u32(payload)}
    if ftype in (PING, PONG):
        return {"nonce": decode_u32(payload)}
    if ftype in (RESPONSE_TRAILERS, EARLY_HINTS):
        return {"headers": decode_trailers(payload)}
    if ftype == READY:
        pid, version, capabilities = decode_ready(payload)
        return {"pid": pid, "version": version, "capabilities": capabilities}
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
    if ftype == WEBSOCKET_ACCEPT:
        subprotocol, headers = decode_websocket_accept(payload)
        return {"subprotocol": subprotocol, "headers": headers}
    if ftype == WEBSOCKET_MESSAGE:
        if flags & TEXT:
            return {"text": str(payload, "utf-8", "replace")}
        return {"data_hex": bytes(payload).hex()}
    if ftype == WEBSOCKET_CLOSE:
        code, reason = decode_websocket_close(payload)
        return {"code": code, "reason": reason}
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


# The golden file writes a head's bytes as latin-1 strings (bytes-as-str, as
# environ values are) and its addresses as [host, port] lists.

def head_from_message(message: dict) -> RequestHead:
    def raw(text):
        return text.encode("latin-1")
    return RequestHead(
        message["method"], message["scheme"], message["http_version"], raw(message["path"]),
        raw(message["raw_path"]), raw(message["query_string"]), raw(message["root_path"]),
        [(raw(name), raw(value)) for name, value in message["headers"]],
        None if message["client"] is None else tuple(message["client"]), tuple(message["server"]),
        None if message.get("tls") is None else dict(message["tls"], client_cert_error=None))


def head_to_message(head: RequestHead) -> dict:
    def text(data):
        return str(data, "latin-1")
    return {
        "method": head.method, "scheme": head.scheme, "http_version": head.http_version,
        "path": text(head.path), "raw_path": text(head.raw_path),
        "query_string": text(head.query_string), "root_path": text(head.root_path),
        "headers": [[text(name), text(value)] for name, value in head.headers],
        "client": None if head.client is None else list(head.client), "server": list(head.server),
        "tls": None if head.tls is None else {key: value for key, value in head.tls.items() if key != "client_cert_error"},
    }
