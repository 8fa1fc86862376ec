"""The asyncio request loop (asgi_loop.py) in-process, over a real
socketpair, with a fake front written here: requests as tasks, request and
response flow control, CANCEL with and without TIMED_OUT, PING, STOP and
lifespan, trailers and early hints."""
import asyncio
import os
import socket
import threading
import time
import unittest

import support
from portico import codec
from portico.asgi.errors import LifespanFailed
from portico.asgi_loop import AsgiApplication, AsgiLoop
from portico.errors import ChannelClosed, ChannelCorrupt
from portico.request_head import RequestHead, encode_request_head

MiB = 1024 * 1024


def asgi_request(stream_id, path=b"/", method="GET", flags=0, headers=(), http_version="1.1"):
    """A REQUEST with a head (HAS_HEAD), as the front sends it to an ASGI worker."""
    head = encode_request_head(RequestHead(
        method, "http", http_version, path, path, b"", b"", list(headers),
        ("127.0.0.1", 50000), ("127.0.0.1", 8000)))
    payload = codec.encode_u32(len(head)) + head + codec.encode_environ([])
    return codec.encode_frame(codec.REQUEST, flags | codec.HAS_HEAD, stream_id, payload)


def frame(ftype, stream_id=0, payload=b"", flags=0):
    return codec.encode_frame(ftype, flags, stream_id, payload)


def window(stream_id, n):
    return frame(codec.WINDOW, stream_id, codec.encode_u32(n))


def text_response(body, status=200, extra=()):
    async def send_it(send):
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain")] + list(extra)})
        await send({"type": "http.response.body", "body": body})
    return send_it


async def hello_app(scope, receive, send):
    if scope["type"] == "lifespan":
        raise RuntimeError("no lifespan here")  # auto: carries on without
    await text_response(b"hello " + scope["path"].encode())(send)


class AsgiLoopCase(unittest.TestCase):
    def start(self, app, lifespan="auto"):
        """Boots and serves ``app`` on an AsgiLoop in a thread; returns the
        FakeFront once lifespan startup is done (READY's moment)."""
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        self.addCleanup(theirs.close)
        self.front = support.FakeFront(ours)
        self.outcome = []
        booted = threading.Event()
        self.logs = []

        def log(level, text):
            self.logs.append((level, text))

        def run():
            try:
                self.loop = AsgiLoop(theirs, log=log)
                self.app = AsgiApplication(app, lifespan, log=log)
                try:
                    self.loop.boot(self.app)
                finally:
                    booted.set()
                self.loop.serve(self.app)
                self.outcome.append("stopped")
            except ChannelClosed:
                self.outcome.append("closed")
            except BaseException as exc:  # noqa: B902 - reported by the test
                self.outcome.append(exc)
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        self.addCleanup(self.thread.join, 5)
        booted.wait(5)
        return self.front

    def stop(self):
        self.front.send(frame(codec.STOP))
        self.thread.join(5)
        self.assertEqual(self.outcome, ["stopped"])

    def rest(self):
        """The frames still in the socket, once the worker is done."""
        self.front.sock.settimeout(0.2)
        frames = []
        try:
            while True:
                f = self.front.read_frame()
                if f is None:
                    break
                frames.append(f)
        except socket.timeout:
            pass
        return frames

    def kinds(self, frames):
        return [f[0] for f in frames]


class RequestTest(AsgiLoopCase):
    def test_hello_world(self):
        front = self.start(hello_app)
        front.send(asgi_request(1, b"/x"))
        got = front.response(1)
        self.assertEqual(self.kinds(got), ["STARTED", "RESPONSE_HEAD", "RESPONSE_BODY", "RESPONSE_END"])
        self.assertEqual(got[1][3], {"status": 200, "reason": "", "headers": [["content-type", "text/plain"]]})
        self.assertEqual(support.body_of(got), b"hello /x")
        self.assertEqual(got[3][1], 0)
        self.stop()

    def test_requests_run_concurrently_as_tasks(self):
        async def app(scope, receive, send):
            if scope["type"] == "http":
                await asyncio.sleep(0.2)
                await text_response(b"ok")(send)
        front = self.start(app, lifespan="off")
        began = time.monotonic()
        front.send(*[asgi_request(n) for n in range(1, 101)])
        for n in range(1, 101):
            self.assertEqual(support.body_of(front.response(n)), b"ok")
        # 100 x 0.2 s in sequence would be 20 s.
        self.assertLess(time.monotonic() - began, 3.0)
        self.stop()

    def test_a_request_without_a_head_is_a_500(self):
        front = self.start(hello_app)
        front.send(support.request_frame(1))
        got = front.response(1)
        self.assertEqual(self.kinds(got), ["STARTED", "ERROR"])
        self.assertEqual(got[1][3]["status"], 500)
        self.stop()

    def test_trailers_and_early_hints(self):
        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            await send({"type": "http.response.early_hint", "links": [b"</s.css>; rel=preload; as=style"]})
            await send({"type": "http.response.start", "status": 200, "trailers": True,
                        "headers": [(b"trailer", b"x-sum")]})
            await send({"type": "http.response.body", "body": b"data"})
            await send({"type": "http.response.trailers", "headers": [(b"x-sum", b"42")]})
        front = self.start(app, lifespan="off")
        front.send(asgi_request(1))
        got = front.response(1)
        self.assertEqual(self.kinds(got), ["STARTED", "EARLY_HINTS", "RESPONSE_HEAD", "RESPONSE_BODY",
                                           "RESPONSE_TRAILERS", "RESPONSE_END"])
        self.assertEqual(got[1][3], {"headers": [["link", "</s.css>; rel=preload; as=style"]]})
        self.assertEqual(got[4][3], {"headers": [["x-sum", "42"]]})
        self.stop()

    def test_pathsend_is_a_file_frame(self):
        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.pathsend", "path": os.path.abspath(__file__)})
        front = self.start(app, lifespan="off")
        front.send(asgi_request(1))
        got = front.response(1)
        self.assertEqual(self.kinds(got), ["STARTED", "RESPONSE_HEAD", "FILE", "RESPONSE_END"])
        self.assertEqual(got[2][3], {"offset": 0, "length": None, "path": os.path.abspath(__file__)})
        self.stop()

    def test_a_broken_frame_ends_the_worker_as_a_protocol_error(self):
        front = self.start(hello_app)
        front.send(frame(codec.RESPONSE_BODY, 1, b"x"))  # a worker-to-front type
        self.thread.join(5)
        self.assertEqual(len(self.outcome), 1)
        self.assertIsInstance(self.outcome[0], ChannelCorrupt)

    def test_ping_is_answered_with_its_nonce(self):
        front = self.start(hello_app)
        front.send(frame(codec.PING, 0, codec.encode_u32(0xC0FFEE)))
        self.assertEqual(front.read_frame(), ("PONG", 0, 0, {"nonce": 0xC0FFEE}))
        self.stop()


class RequestBodyTest(AsgiLoopCase):
    def test_a_large_upload_streams_within_the_grants(self):
        sizes = []

        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            total = 0
            while True:
                message = await receive()
                total += len(message["body"])
                sizes.append(len(message["body"]))
                if not message["more_body"]:
                    break
                await asyncio.sleep(0.01)  # a slow consumer
            await text_response(str(total).encode())(send)
        front = self.start(app, lifespan="off")
        body = bytes(range(256)) * (3 * MiB // 256)
        front.send(asgi_request(1, method="POST", flags=codec.HAS_BODY))
        self.assertEqual(front.read_frame()[:3], ("STARTED", 0, 1))
        granted = codec.REQUEST_WINDOW  # unasked, after STARTED
        sent = 0
        wants = []
        while sent < len(body):
            n = min(granted, codec.MAX_CHUNK, len(body) - sent)
            if n:
                front.send(frame(codec.REQUEST_BODY, 1, body[sent:sent + n]))
                sent += n
                granted -= n
                continue
            got = front.read_frame()
            self.assertEqual(got[0], "WANT_BODY", got)
            wants.append(got[3]["n"])
            granted += got[3]["n"]
        front.send(frame(codec.REQUEST_END, 1))
        got = front.response(1)
        self.assertEqual(support.body_of(got), str(len(body)).encode())
        self.assertTrue(wants)
        # The grant is topped up, never past the window.
        self.assertTrue(all(0 < n <= codec.REQUEST_WINDOW for n in wants), wants)
        self.stop()

    def test_expect_continue_is_asked_for_on_the_first_receive(self):
        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            # Something the front sees before the application reads.
            await send({"type": "http.response.early_hint", "links": [b"</a>; rel=preload"]})
            message = await receive()
            await text_response(message["body"])(send)
        front = self.start(app, lifespan="off")
        front.send(asgi_request(1, method="PUT", flags=codec.HAS_BODY | codec.EXPECT_CONTINUE))
        got = front.read_until(lambda f: f[0] == "WANT_BODY")
        self.assertEqual(self.kinds(got), ["STARTED", "EARLY_HINTS", "WANT_BODY"])
        self.assertEqual(got[-1][3], {"n": codec.REQUEST_WINDOW})
        front.send(frame(codec.REQUEST_BODY, 1, b"abc"), frame(codec.REQUEST_END, 1))
        self.assertEqual(support.body_of(front.response(1)), b"abc")
        self.stop()

    def test_a_body_cut_short_is_a_disconnect(self):
        seen = []

        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            while True:
                message = await receive()
                seen.append(message["type"])
                if message["type"] == "http.disconnect":
                    return
        front = self.start(app, lifespan="off")
        front.send(asgi_request(1, method="POST", flags=codec.HAS_BODY))
        front.send(frame(codec.REQUEST_BODY, 1, b"part"), frame(codec.REQUEST_END, 1, flags=codec.ABORTED))
        got = front.response(1)
        self.assertEqual(got[-1][:2], ("RESPONSE_END", codec.ABORT))
        # The bytes that came may or may not be read first: once the client
        # is known to be gone, http.disconnect is all there is to say.
        self.assertEqual(seen[-1], "http.disconnect")
        self.stop()


class ResponseWindowTest(AsgiLoopCase):
    def test_a_response_larger_than_the_window_waits_for_window_and_blocks_nobody(self):
        big = b"x" * (3 * MiB)

        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            await text_response(big if scope["path"] == "/big" else b"small")(send)
        front = self.start(app, lifespan="off")
        front.send(asgi_request(1, b"/big"))
        received = 0
        while received < codec.RESPONSE_WINDOW:
            got = front.read_frame()
            if got[0] == "RESPONSE_BODY":
                received += len(got[3]["data_hex"]) // 2
        self.assertEqual(received, codec.RESPONSE_WINDOW)
        # Out of credit: the task waits, and the loop serves others meanwhile.
        front.send(asgi_request(2, b"/other"))
        self.assertEqual(support.body_of(front.response(2)), b"small")
        self.assertEqual([f for f in front.aside if f[0] == "RESPONSE_BODY"], [])
        front.send(window(1, codec.RESPONSE_WINDOW))
        got = front.response(1)
        self.assertEqual(received + len(support.body_of(got)), len(big))
        self.stop()


class CancelTest(AsgiLoopCase):
    def test_a_client_that_left_is_a_disconnect_and_the_task_finishes(self):
        events = []

        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"event: 1\n\n", "more_body": True})
            try:
                events.append((await receive())["type"])  # the (empty) request body
                events.append((await receive())["type"])  # waits for the end
                events.append((await receive())["type"])
                try:
                    await send({"type": "http.response.body", "body": b"more", "more_body": True})
                except OSError as exc:
                    events.append(type(exc).__name__)
            except asyncio.CancelledError:
                events.append("cancelled")
                raise
            finally:
                events.append("finally")
        front = self.start(app, lifespan="off")
        front.send(asgi_request(1))
        front.read_until(lambda f: f[0] == "RESPONSE_BODY")
        front.send(frame(codec.CANCEL, 1))
        got = front.response(1)
        self.assertEqual(got[-1][:2], ("RESPONSE_END", codec.ABORT))
        self.assertEqual(events, ["http.request", "http.disconnect", "http.disconnect", "ClientDisconnected",
                                  "finally"])
        self.stop()

    def test_timed_out_cancels_the_task_and_spares_the_others(self):
        events = []
        sleeping = threading.Event()

        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            if scope["path"] == "/slow":
                try:
                    sleeping.set()
                    await asyncio.sleep(30)
                except asyncio.CancelledError:
                    events.append("cancelled")
                    raise
            await asyncio.sleep(0.1)
            await text_response(b"fine")(send)
        front = self.start(app, lifespan="off")
        front.send(asgi_request(1, b"/slow"), asgi_request(2, b"/quick"))
        front.read_until(lambda f: f[:3] == ("STARTED", 0, 2))
        # The task must be in the application when the CANCEL comes: one
        # cancelled before its first step never runs it (under uvloop the
        # CANCEL can be read before the new tasks take their first step).
        self.assertTrue(sleeping.wait(5))
        front.send(frame(codec.CANCEL, 1, flags=codec.TIMED_OUT))
        got = front.response(1)
        self.assertEqual(got[-1][:2], ("RESPONSE_END", codec.ABORT))
        self.assertEqual(events, ["cancelled"])
        self.assertEqual(support.body_of(front.response(2)), b"fine")
        front.send(frame(codec.PING, 0, codec.encode_u32(7)))
        self.assertEqual(front.read_frame()[0], "PONG")
        self.stop()


class LifecycleTest(AsgiLoopCase):
    def test_stop_drains_then_runs_lifespan_shutdown(self):
        events = []

        async def app(scope, receive, send):
            if scope["type"] == "lifespan":
                while True:
                    message = await receive()
                    events.append(message["type"])
                    if message["type"] == "lifespan.startup":
                        scope["state"]["greeting"] = b"hi"
                        await send({"type": "lifespan.startup.complete"})
                    else:
                        await send({"type": "lifespan.shutdown.complete"})
                        return
            await asyncio.sleep(0.3)
            events.append("request done")
            await text_response(scope["state"]["greeting"])(send)
        front = self.start(app)
        self.assertEqual(events, ["lifespan.startup"])
        front.send(asgi_request(1), frame(codec.STOP), asgi_request(2))
        got = front.response(1)
        self.assertEqual(support.body_of(got), b"hi")
        self.thread.join(5)
        self.assertEqual(self.outcome, ["stopped"])
        self.assertEqual(events, ["lifespan.startup", "request done", "lifespan.shutdown"])
        # The REQUEST after STOP was not taken: no STARTED, so the front may
        # give it to another worker.
        self.assertNotIn(2, [f[2] for f in got + self.rest() + front.aside])

    def test_lifespan_startup_failure_is_a_boot_error(self):
        async def app(scope, receive, send):
            await receive()
            await send({"type": "lifespan.startup.failed", "message": "no database"})
        self.start(app)
        self.thread.join(5)
        self.assertEqual(len(self.outcome), 1)
        self.assertIsInstance(self.outcome[0], LifespanFailed)
        self.assertIn("no database", self.outcome[0].text)

    def test_end_of_the_channel_cancels_every_task(self):
        events = []

        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                events.append("cancelled")
                raise
        front = self.start(app, lifespan="off")
        front.send(asgi_request(1), asgi_request(2))
        front.read_until(lambda f: f[:3] == ("STARTED", 0, 2))
        front.sock.shutdown(socket.SHUT_WR)
        self.thread.join(5)
        self.assertEqual(self.outcome, ["closed"])
        self.assertEqual(events, ["cancelled", "cancelled"])


if __name__ == "__main__":
    unittest.main()
