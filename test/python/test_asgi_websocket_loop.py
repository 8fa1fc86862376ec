"""WebSockets through the asyncio request loop (asgi_loop.py) in-process,
over a real socketpair, with a fake front: the frames of docs/protocol.md
"WebSocket frames" in both directions, message credit (WINDOW) and
WANT_BODY per received message, the client's close, CANCEL before the
accept, refusals, STOP with a WebSocket open."""
import asyncio
import socket
import threading
import time

import support
from portico import codec
from portico.errors import ChannelCorrupt
from portico.request_head import RequestHead, encode_request_head
from portico.websocket_payloads import encode_websocket_close
from test_asgi_loop import AsgiLoopCase, asgi_request, frame, text_response, window

KiB = 1024


def ws_request(stream_id, path=b"/ws", subprotocols=None):
    """A REQUEST as the front sends a WebSocket handshake to an ASGI worker."""
    headers = [(b"host", b"example.com"), (b"upgrade", b"websocket"), (b"connection", b"Upgrade"),
               (b"sec-websocket-key", b"dGhlIHNhbXBsZSBub25jZQ=="), (b"sec-websocket-version", b"13")]
    if subprotocols is not None:
        headers.append((b"sec-websocket-protocol", subprotocols))
    head = encode_request_head(RequestHead(
        "GET", "http", "1.1", path, path, b"", b"", headers, ("127.0.0.1", 50000), ("127.0.0.1", 8000)))
    payload = codec.encode_u32(len(head)) + head + codec.encode_environ([])
    return codec.encode_frame(codec.REQUEST, codec.HAS_HEAD | codec.WEBSOCKET, stream_id, payload)


def text(stream_id, message):
    return frame(codec.WEBSOCKET_MESSAGE, stream_id, message.encode("utf-8"), flags=codec.TEXT)


def binary(stream_id, data):
    return frame(codec.WEBSOCKET_MESSAGE, stream_id, data)


def close(stream_id, code=1000, reason=""):
    return frame(codec.WEBSOCKET_CLOSE, stream_id, encode_websocket_close(code, reason))


async def echo_app(scope, receive, send):
    """Echoes until the client closes, and records the disconnect in
    ``echo_app.heard``; answers HTTP with a plain text."""
    if scope["type"] != "websocket":
        if scope["type"] == "http":
            await text_response(b"plain http")(send)
        return
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept", "subprotocol": scope["subprotocols"][0] if scope["subprotocols"] else None})
    while True:
        event = await receive()
        if event["type"] == "websocket.disconnect":
            echo_app.heard.append(event)
            return
        await send({"type": "websocket.send", "text": event.get("text"), "bytes": event.get("bytes")})


class WebSocketLoopCase(AsgiLoopCase):
    def setUp(self):
        echo_app.heard = []

    def until(self, stream_id, kind):
        """Frames of ``stream_id`` up to the first of type ``kind``; others kept aside."""
        got = []
        while True:
            f = self.front.read_frame()
            self.assertIsNotNone(f, "EOF before %s; got %r" % (kind, got))
            if f[2] != stream_id:
                self.front.aside.append(f)
                continue
            got.append(f)
            if f[0] == kind:
                return got

    def wanted(self, frames):
        return sum(f[3]["n"] for f in frames if f[0] == "WANT_BODY")


class ConversationTest(WebSocketLoopCase):
    def test_accept_echo_text_and_binary_then_the_client_closes(self):
        front = self.start(echo_app, lifespan="off")
        front.send(ws_request(1, subprotocols=b"chat, v2"))
        got = self.until(1, "WEBSOCKET_ACCEPT")
        self.assertEqual(self.kinds(got), ["STARTED", "WEBSOCKET_ACCEPT"])
        self.assertEqual(got[1][3], {"subprotocol": "chat", "headers": []})
        front.send(text(1, "héllo"), binary(1, b"\x00\xff"))
        got = self.until(1, "WEBSOCKET_MESSAGE")
        got += self.until(1, "WEBSOCKET_MESSAGE")
        messages = [f for f in got if f[0] == "WEBSOCKET_MESSAGE"]
        self.assertEqual([(f[1], f[3]) for f in messages],
                         [(codec.TEXT, {"text": "héllo"}), (0, {"data_hex": "00ff"})])
        front.send(close(1, 4001, "bye"))
        got += self.until(1, "RESPONSE_END")
        self.assertEqual(got[-1][:2], ("RESPONSE_END", 0))
        self.assertEqual(self.wanted(got), 2)
        self.assertEqual(echo_app.heard, [{"type": "websocket.disconnect", "code": 4001, "reason": "bye"}])
        self.stop()

    def test_a_close_without_a_code_is_1005(self):
        front = self.start(echo_app, lifespan="off")
        front.send(ws_request(1))
        self.until(1, "WEBSOCKET_ACCEPT")
        front.send(close(1, 1005))
        self.until(1, "RESPONSE_END")
        self.assertEqual(echo_app.heard, [{"type": "websocket.disconnect", "code": 1005, "reason": ""}])
        self.stop()

    def test_the_app_closes_with_a_code(self):
        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept", "headers": [(b"x-room", b"7")]})
            await send({"type": "websocket.send", "text": "welcome"})
            await send({"type": "websocket.close", "code": 4003, "reason": "full"})
        front = self.start(app, lifespan="off")
        front.send(ws_request(1))
        got = self.until(1, "RESPONSE_END")
        self.assertEqual(self.kinds(got), ["STARTED", "WEBSOCKET_ACCEPT", "WEBSOCKET_MESSAGE",
                                           "WEBSOCKET_CLOSE", "RESPONSE_END"])
        self.assertEqual(got[1][3]["headers"], [["x-room", "7"]])
        self.assertEqual(got[3][3], {"code": 4003, "reason": "full"})
        self.stop()

    def test_http_requests_run_beside_a_websocket(self):
        front = self.start(echo_app, lifespan="off")
        front.send(ws_request(1))
        self.until(1, "WEBSOCKET_ACCEPT")
        front.send(asgi_request(2, b"/plain"))
        self.assertEqual(support.body_of(front.response(2)), b"plain http")
        front.send(text(1, "still here"))
        self.assertEqual(self.until(1, "WEBSOCKET_MESSAGE")[-1][3], {"text": "still here"})
        front.send(close(1))
        self.until(1, "RESPONSE_END")
        self.stop()


class FlowControlTest(WebSocketLoopCase):
    def test_send_waits_for_window_credit_once_it_is_spent(self):
        sent = []

        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            for n in range(3):
                # 600 KiB each: the first leaves credit, the second spends
                # it past 0 (a message is never cut), the third waits.
                await send({"type": "websocket.send", "bytes": bytes([n]) * (600 * KiB)})
                sent.append(n)
        front = self.start(app, lifespan="off")
        front.send(ws_request(1))
        got = self.until(1, "WEBSOCKET_MESSAGE")
        got += self.until(1, "WEBSOCKET_MESSAGE")
        time.sleep(0.3)
        self.assertEqual(sent, [0, 1])
        front.sock.settimeout(0.3)
        with self.assertRaises(socket.timeout):
            front.read_frame()
        front.sock.settimeout(10)
        front.send(window(1, 600 * KiB))
        got = self.until(1, "RESPONSE_END")
        self.assertEqual(self.kinds(got), ["WEBSOCKET_MESSAGE", "RESPONSE_END"])
        self.assertEqual(len(got[0][3]["data_hex"]) // 2, 600 * KiB)
        self.assertEqual(sent, [0, 1, 2])
        self.stop()

    def test_want_body_counts_the_messages_the_app_received(self):
        proceed = threading.Event()

        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            first = await receive()
            await send({"type": "websocket.send", "text": "got " + first["text"]})
            while not proceed.is_set():
                await asyncio.sleep(0.01)
            for _ in range(2):
                await receive()
            await send({"type": "websocket.send", "text": "got all"})
        front = self.start(app, lifespan="off")
        front.send(ws_request(1))
        self.until(1, "WEBSOCKET_ACCEPT")
        front.send(text(1, "a"), text(1, "b"), text(1, "c"))
        got = self.until(1, "WEBSOCKET_MESSAGE")
        got += self.until(1, "WANT_BODY")
        # One received, one granted back: the other two still wait in the worker.
        self.assertEqual(self.wanted(got), 1)
        front.sock.settimeout(0.3)
        with self.assertRaises(socket.timeout):
            front.read_frame()
        front.sock.settimeout(10)
        proceed.set()
        got = self.until(1, "RESPONSE_END")
        self.assertEqual(self.wanted(got), 2)
        self.stop()


class RefusalTest(WebSocketLoopCase):
    def test_cancel_before_accept(self):
        heard = []
        waiting = threading.Event()

        async def app(scope, receive, send):
            heard.append(await receive())
            waiting.set()
            heard.append(await receive())
            try:
                await send({"type": "websocket.accept"})
            except OSError as exc:
                heard.append(type(exc).__name__)
        front = self.start(app, lifespan="off")
        front.send(ws_request(1))
        self.until(1, "STARTED")
        self.assertTrue(waiting.wait(5))
        front.send(frame(codec.CANCEL, 1))
        got = self.until(1, "RESPONSE_END")
        self.assertEqual(got[-1][:2], ("RESPONSE_END", codec.ABORT))
        self.assertEqual(heard, [{"type": "websocket.connect"},
                                 {"type": "websocket.disconnect", "code": 1006, "reason": ""},
                                 "ClientDisconnected"])
        self.stop()

    def test_close_before_accept_is_a_403(self):
        async def app(scope, receive, send):
            await send({"type": "websocket.close"})
        front = self.start(app, lifespan="off")
        front.send(ws_request(1))
        got = self.until(1, "RESPONSE_END")
        self.assertEqual(self.kinds(got), ["STARTED", "RESPONSE_HEAD", "RESPONSE_END"])
        self.assertEqual(got[1][3], {"status": 403, "reason": "", "headers": []})
        self.assertEqual(got[2][1], 0)
        self.stop()

    def test_denial_response(self):
        async def app(scope, receive, send):
            await send({"type": "websocket.http.response.start", "status": 401,
                        "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "websocket.http.response.body", "body": b"log in first"})
        front = self.start(app, lifespan="off")
        front.send(ws_request(1))
        got = self.until(1, "RESPONSE_END")
        self.assertEqual(self.kinds(got), ["STARTED", "RESPONSE_HEAD", "RESPONSE_BODY", "RESPONSE_END"])
        self.assertEqual(got[1][3]["status"], 401)
        self.assertEqual(support.body_of(got), b"log in first")
        self.stop()

    def test_raise_after_accept_is_an_error_with_the_traceback(self):
        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            raise RuntimeError("lost the room")
        front = self.start(app, lifespan="off")
        front.send(ws_request(1))
        got = self.until(1, "ERROR")
        self.assertEqual(self.kinds(got), ["STARTED", "WEBSOCKET_ACCEPT", "ERROR"])
        self.assertEqual(got[-1][3]["status"], 500)
        self.assertIn("RuntimeError: lost the room", got[-1][3]["text"])
        self.assertIn("WebSocket /ws", got[-1][3]["text"])
        self.stop()


class ChannelTest(WebSocketLoopCase):
    def test_a_message_before_the_accept_is_a_protocol_error(self):
        async def app(scope, receive, send):
            await asyncio.sleep(10)
        front = self.start(app, lifespan="off")
        front.send(ws_request(1))
        self.until(1, "STARTED")
        front.send(text(1, "too early"))
        self.thread.join(5)
        self.assertIsInstance(self.outcome[0], ChannelCorrupt)

    def test_a_message_on_an_http_stream_is_a_protocol_error(self):
        async def app(scope, receive, send):
            await asyncio.sleep(10)
        front = self.start(app, lifespan="off")
        front.send(asgi_request(1))
        self.until(1, "STARTED")
        front.send(close(1))
        self.thread.join(5)
        self.assertIsInstance(self.outcome[0], ChannelCorrupt)

    def test_frames_for_an_ended_stream_are_ignored(self):
        front = self.start(echo_app, lifespan="off")
        front.send(text(9, "nobody"), close(9))
        front.send(ws_request(1))
        self.until(1, "WEBSOCKET_ACCEPT")
        front.send(close(1))
        self.until(1, "RESPONSE_END")
        front.send(text(1, "late"), close(1))
        self.stop()

    def test_stop_leaves_an_open_websocket_running_until_its_app_returns(self):
        front = self.start(echo_app, lifespan="off")
        front.send(ws_request(1))
        self.until(1, "WEBSOCKET_ACCEPT")
        front.send(frame(codec.STOP))
        front.send(text(1, "after stop"))
        self.assertEqual(self.until(1, "WEBSOCKET_MESSAGE")[-1][3], {"text": "after stop"})
        self.assertTrue(self.thread.is_alive())
        # The front closes it (1001 on shutdown, 1012 for a replaced worker).
        front.send(close(1, 1012, "worker replaced"))
        self.until(1, "RESPONSE_END")
        self.thread.join(5)
        self.assertEqual(self.outcome, ["stopped"])
        self.assertEqual(echo_app.heard[0]["code"], 1012)
