"""The frame codec against test/fixtures/golden-frames.json (shared with the
TypeScript codec) and the incremental decoder's edge cases."""
import json
import random
import struct
import unittest

import support
from portico import codec, frame_messages, websocket_payloads
from portico.frame_decoder import FrameDecoder
from portico.request_head import RequestHead, decode_request_head, encode_request_head
from portico.errors import FrameError


def load_golden():
    with open(support.GOLDEN_FRAMES, encoding="utf-8") as f:
        return json.load(f)


class GoldenFramesTest(unittest.TestCase):
    def test_every_message_type_is_covered(self):
        types = {entry["type"] for entry in load_golden()}
        self.assertEqual(types, set(codec.TYPE_NAMES.values()))

    def test_decode_matches(self):
        for entry in load_golden():
            with self.subTest(entry["name"]):
                decoded = frame_messages.decode(bytes.fromhex(entry["hex"]))
                self.assertEqual(decoded, (entry["type"], entry["flags"], entry["stream"], entry["message"]))

    def test_encode_matches(self):
        for entry in load_golden():
            with self.subTest(entry["name"]):
                data = frame_messages.encode(entry["type"], entry["flags"], entry["stream"], entry["message"])
                self.assertEqual(data.hex(), entry["hex"])

    def test_hot_path_encoders_match(self):
        # The channel does not go through encode(); its payload functions must agree.
        for entry in load_golden():
            message = entry["message"]
            with self.subTest(entry["name"]):
                if entry["type"] == "RESPONSE_HEAD":
                    payload = codec.encode_response_head(message["status"], message["reason"],
                                                         [tuple(h) for h in message["headers"]])
                elif entry["type"] == "FILE":
                    payload = codec.encode_file(message["offset"], message["length"],
                                                message["path"].encode("utf-8"))
                elif entry["type"] == "ERROR":
                    payload = codec.encode_error(message["status"], message["text"])
                elif entry["type"] == "REQUEST":
                    shared, head, own = codec.split_request(entry["flags"], bytes.fromhex(entry["hex"])[12:])
                    got = codec.decode_environ(own, None if shared is None else codec.decode_environ(shared))
                    self.assertEqual(got, dict(message.get("shared", []) + message["environ"]))
                    if "head" in message:
                        self.assertEqual(decode_request_head(head), frame_messages.head_from_message(message["head"]))
                    else:
                        self.assertIsNone(head)
                    continue
                elif entry["type"] == "READY":
                    payload = codec.encode_ready(message["pid"], message["version"], message["capabilities"])
                elif entry["type"] in ("RESPONSE_TRAILERS", "EARLY_HINTS"):
                    # The ASGI side's encoder, from bytes fields.
                    payload = codec.encode_fields([(n.encode("latin-1"), v.encode("latin-1"))
                                                   for n, v in message["headers"]])
                elif entry["type"] in ("PING", "PONG"):
                    payload = codec.encode_u32(message["nonce"])
                elif entry["type"] == "WEBSOCKET_ACCEPT":
                    # The ASGI side's encoder, from bytes fields.
                    payload = websocket_payloads.encode_websocket_accept_fields(
                        message["subprotocol"], [(n.encode("latin-1"), v.encode("latin-1"))
                                                 for n, v in message["headers"]])
                elif entry["type"] == "WEBSOCKET_CLOSE":
                    payload = websocket_payloads.encode_websocket_close(message["code"], message["reason"])
                else:
                    continue
                frame = codec.encode_frame(codec.TYPE_CODES[entry["type"]], entry["flags"], entry["stream"], payload)
                self.assertEqual(frame.hex(), entry["hex"])


class FakeSocket:
    """recv_into from a list of byte chunks."""

    def __init__(self, chunks):
        self.chunks = [bytes(c) for c in chunks]

    def recv_into(self, view, nbytes=0, flags=0):
        if not self.chunks:
            return 0
        chunk = self.chunks[0]
        n = min(len(chunk), len(view))
        view[:n] = chunk[:n]
        if n == len(chunk):
            self.chunks.pop(0)
        else:
            self.chunks[0] = chunk[n:]
        return n


def drain(decoder, sock):
    frames = []
    while decoder.recv_into(sock):
        for ftype, flags, stream, payload in decoder.frames():
            frames.append((ftype, flags, stream, bytes(payload)))
    return frames


class FrameDecoderTest(unittest.TestCase):
    def stream_of_frames(self):
        golden = load_golden()
        data = b"".join(bytes.fromhex(e["hex"]) for e in golden)
        expected = [(codec.TYPE_CODES[e["type"]], e["flags"], e["stream"],
                     bytes.fromhex(e["hex"])[12:]) for e in golden]
        return data, expected

    def test_any_chunking_gives_the_same_frames(self):
        data, expected = self.stream_of_frames()
        for size in (1, 2, 3, 5, 11, 12, 13, 64, 1000, len(data)):
            with self.subTest(chunk=size):
                chunks = [data[i:i + size] for i in range(0, len(data), size)]
                self.assertEqual(drain(FrameDecoder(64), FakeSocket(chunks)), expected)

    def test_random_frames_in_random_chunks(self):
        rng = random.Random(3333)
        frames = []
        for index in range(400):
            size = rng.choice([0, 1, 11, 12, 13, 500, 4096, 70000, 300000])
            frames.append((codec.REQUEST_BODY, index % 2, index + 1, rng.randbytes(size)
                           if hasattr(rng, "randbytes") else bytes(rng.getrandbits(8) for _ in range(size))))
        data = b"".join(codec.encode_frame(t, f, s, p) for t, f, s, p in frames)
        chunks = []
        pos = 0
        while pos < len(data):
            n = rng.choice([1, 7, 100, 5000, 65536, 262144, 400000])
            chunks.append(data[pos:pos + n])
            pos += n
        self.assertEqual(drain(FrameDecoder(), FakeSocket(chunks)), frames)

    def test_frame_larger_than_the_buffer(self):
        big = bytes(range(256)) * 4096  # 1 MiB
        frames = [codec.encode_frame(codec.REQUEST_BODY, 0, 3, big),
                  codec.encode_frame(codec.REQUEST_END, 0, 3),
                  codec.encode_frame(codec.REQUEST_BODY, 0, 3, big[:300000])]
        data = b"".join(frames)
        chunks = [data[i:i + 100000] for i in range(0, len(data), 100000)]
        got = drain(FrameDecoder(1024), FakeSocket(chunks))
        self.assertEqual([(t, s, len(p)) for t, _, s, p in got],
                         [(codec.REQUEST_BODY, 3, len(big)), (codec.REQUEST_END, 3, 0),
                          (codec.REQUEST_BODY, 3, 300000)])
        self.assertEqual(got[0][3], big)

    def test_payloads_are_views_not_copies(self):
        decoder = FrameDecoder()
        decoder.feed(codec.encode_frame(codec.REQUEST_BODY, 0, 1, b"abc"))
        (frame,) = list(decoder.frames())
        self.assertIsInstance(frame[3], memoryview)
        self.assertEqual(decoder.buffered, 0)

    def test_partial_frame_stays_buffered(self):
        decoder = FrameDecoder()
        data = codec.encode_frame(codec.WINDOW, 0, 1, codec.encode_u32(5))
        decoder.feed(data[:-1])
        self.assertEqual(list(decoder.frames()), [])
        decoder.feed(data[-1:])
        self.assertEqual([(t, s, bytes(p)) for t, _, s, p in decoder.frames()],
                         [(codec.WINDOW, 1, codec.encode_u32(5))])

    def test_unknown_type_is_a_protocol_error(self):
        decoder = FrameDecoder()
        decoder.feed(struct.pack(">BBHII", 0x7F, 0, 0, 1, 0))
        with self.assertRaises(FrameError):
            list(decoder.frames())

    def test_oversized_payload_is_refused_from_the_header_alone(self):
        decoder = FrameDecoder()
        decoder.feed(struct.pack(">BBHII", codec.REQUEST_BODY, 0, 0, 1, codec.MAX_PAYLOAD + 1))
        with self.assertRaises(FrameError):
            list(decoder.frames())

    def test_max_payload_itself_is_allowed(self):
        decoder = FrameDecoder()
        decoder.feed(codec.encode_frame(codec.REQUEST_BODY, 0, 1, bytes(codec.MAX_PAYLOAD)))
        (frame,) = list(decoder.frames())
        self.assertEqual(len(frame[3]), codec.MAX_PAYLOAD)

    def test_encoder_refuses_oversized_payload(self):
        with self.assertRaises(FrameError):
            codec.encode_frame(codec.RESPONSE_BODY, 0, 1, bytes(codec.MAX_PAYLOAD + 1))

    def test_malformed_payloads(self):
        with self.assertRaises(FrameError):
            codec.decode_environ(b"\x00\x03abc\x00\x00\x00\x09short")
        with self.assertRaises(FrameError):
            codec.decode_environ(b"\x00\x03ab")
        with self.assertRaises(FrameError):
            codec.decode_u32(b"\x00\x01")
        with self.assertRaises(FrameError):
            frame_messages.decode(codec.encode_frame(codec.CANCEL, 0, 1, b"x"))

    def test_constants_match_the_spec(self):
        self.assertEqual((codec.REQUEST_WINDOW, codec.RESPONSE_WINDOW, codec.MAX_CHUNK, codec.MAX_PAYLOAD),
                         (1048576, 1048576, 262144, 16777216))
        self.assertEqual((codec.PROTOCOL_VERSION, codec.CAP_WSGI, codec.CAP_ASGI, codec.CAP_WEBSOCKET),
                         (2, 1, 2, 4))
        self.assertEqual((codec.PING, codec.PONG, codec.RESPONSE_TRAILERS, codec.EARLY_HINTS,
                          codec.TIMED_OUT, codec.ASGI), (0x08, 0x8C, 0x8D, 0x8E, 0x01, 0x01))
        # REQUEST flags, as src/ipc/frame-codec.ts's RequestFlag.
        self.assertEqual((codec.HAS_BODY, codec.EXPECT_CONTINUE, codec.SHARED_ENVIRON, codec.HAS_HEAD, codec.WEBSOCKET),
                         (0x01, 0x02, 0x04, 0x08, 0x10))

    def test_response_head_from_bytes_fields_matches_the_str_encoder(self):
        self.assertEqual(codec.encode_response_head_fields(200, [(b"content-type", b"caf\xe9")]),
                         codec.encode_response_head(200, "", [("content-type", "caf\u00e9")]))

    def test_type_codes_say_their_direction(self):
        # 0x01-0x3F front -> worker, 0x40-0x7F either way, 0x80-0xFF worker -> front.
        for code, name in codec.TYPE_NAMES.items():
            with self.subTest(name):
                self.assertEqual(code in codec.FRONT_TYPES, code < 0x80)


class ReadyTest(unittest.TestCase):
    def test_a_pid_alone_is_a_runtime_from_before_versions(self):
        self.assertEqual(codec.decode_ready(codec.encode_u32(77)), (77, 0, 0))

    def test_later_fields_are_skipped(self):
        self.assertEqual(codec.decode_ready(codec.encode_ready(5, 2, 7) + b"more"), (5, 2, 7))

    def test_truncated(self):
        with self.assertRaises(FrameError):
            codec.decode_ready(b"\x00" * 6)


class RequestBlocksTest(unittest.TestCase):
    HEAD = RequestHead("GET", "http", "1.1", b"/a", b"/a", b"", b"", [(b"Host", b"x")], None, ("/s", None))

    def test_head_alone_and_after_a_shared_block(self):
        head = encode_request_head(self.HEAD)
        own = codec.encode_environ([("PATH_INFO", "/a")])
        shared = codec.encode_environ([("SERVER_NAME", "x")])
        payload = codec.encode_u32(len(head)) + head + own
        self.assertEqual(codec.split_request(codec.HAS_HEAD, payload), (None, head, own))
        payload = codec.encode_u32(len(shared)) + shared + payload
        self.assertEqual(codec.split_request(codec.HAS_HEAD | codec.SHARED_ENVIRON, payload), (shared, head, own))

    def test_names_go_lowercased(self):
        self.assertEqual(decode_request_head(encode_request_head(self.HEAD)).headers, [(b"host", b"x")])

    def test_a_head_that_overruns_its_request_is_a_protocol_error(self):
        head = encode_request_head(self.HEAD)
        with self.assertRaises(FrameError):
            codec.split_request(codec.HAS_HEAD, codec.encode_u32(len(head) + 1) + head)
        with self.assertRaises(FrameError):
            codec.split_request(codec.HAS_HEAD, b"\x00\x00")

    def test_a_truncated_head_block_is_a_protocol_error(self):
        head = encode_request_head(self.HEAD)
        for cut in (0, 1, 5, 12, len(head) - 1):
            with self.subTest(cut=cut):
                with self.assertRaises(FrameError):
                    decode_request_head(head[:cut])


class WebSocketPayloadsTest(unittest.TestCase):
    def test_accept_without_a_subprotocol(self):
        payload = websocket_payloads.encode_websocket_accept(None, [("X-A", "1")])
        self.assertEqual(websocket_payloads.decode_websocket_accept(payload), (None, [["X-A", "1"]]))

    def test_close_reason_is_utf8(self):
        self.assertEqual(websocket_payloads.decode_websocket_close(websocket_payloads.encode_websocket_close(1001, "au revoir ☃")),
                         (1001, "au revoir ☃"))
        with self.assertRaises(FrameError):
            websocket_payloads.decode_websocket_close(b"\x03")


if __name__ == "__main__":
    unittest.main()
