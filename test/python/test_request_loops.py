"""The request loops over the frame link, in-process, over a socketpair:
dispatch, when output is written, response flow control, CANCEL, request
bodies, STOP and EOF. Every case runs under the inline loop, and most under
the thread-pool loop too."""
import socket
import struct
import threading
import time
import unittest

import support
from portico import codec, frame_messages, websocket_payloads
from portico.environ_decoder import SHARED_ENVIRONS, EnvironDecoder
from portico.errors import ChannelClosed, ChannelCorrupt
from portico.executor import Executor
from portico.frame_link import FrameLink
from portico.inline_loop import InlineLoop
from portico.thread_pool_loop import ThreadPoolLoop

TEXT = [("Content-Type", "text/plain")]


class RecordingSocket:
    """The worker's end, keeping a copy of everything it sent."""

    def __init__(self, sock):
        self.sock = sock
        self.sent = bytearray()
        self.reads = 0

    def sendall(self, data):
        self.sent += data
        return self.sock.sendall(data)

    def sendmsg(self, buffers, *args):
        n = self.sock.sendmsg(buffers, *args)
        self.sent += b"".join(buffers)[:n]
        return n

    def recv_into(self, *args):
        self.reads += 1
        return self.sock.recv_into(*args)


def echo_app(environ, start_response):
    body = environ["wsgi.input"].read()
    start_response("200 OK", TEXT)
    return [environ["PATH_INFO"].encode("latin-1"), b":", body]


class LoopCase(unittest.TestCase):
    threads = 1

    def start(self, app, preload=()):
        """Runs a request loop in a thread; ``preload`` frames are in the socket
        before the worker reads anything."""
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        self.addCleanup(theirs.close)
        self.front = support.FakeFront(ours)
        if preload:
            self.front.send(*preload)
        self.sock = RecordingSocket(theirs)
        if self.threads == 1:
            self.loop = InlineLoop(self.sock)
        else:
            self.loop = ThreadPoolLoop(self.sock, self.threads)
        self.outcome = []

        def serve():
            try:
                self.loop.serve(Executor(app, multithread=self.threads > 1))
                self.outcome.append("stopped")
            except ChannelClosed:
                self.outcome.append("closed")
            except BaseException as exc:  # noqa: B902 - reported by the test
                self.outcome.append(exc)
        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        self.addCleanup(self.thread.join, 5)
        return self.front

    def stop(self):
        self.front.send(codec.encode_frame(codec.STOP, 0, 0))
        self.thread.join(5)
        self.assertEqual(self.outcome, ["stopped"])


class BatchingTest(LoopCase):
    def test_a_finished_response_never_waits_on_the_next_application(self):
        """Pipelined requests: before the application runs for one, the
        previous response and this request's STARTED have left (an application
        may take any time; nothing finished waits on it, and the front knows
        which request is running)."""
        sent_before = {}

        def app(environ, start_response):
            sent_before[environ["PATH_INFO"]] = bytes(self.sock.sent)
            start_response("200 OK", TEXT)
            return [environ["PATH_INFO"].encode("latin-1")]

        frames = [support.request_frame(i, path="/r%d" % i) for i in (1, 2, 3)]
        self.start(app, preload=frames + [codec.encode_frame(codec.STOP, 0, 0)])
        self.thread.join(5)
        self.assertEqual(self.outcome, ["stopped"])
        for n in (1, 2, 3):
            self.assertIn(codec.frame_header(codec.STARTED, 0, n, 0), sent_before["/r%d" % n])
        for n in (2, 3):
            self.assertIn(codec.frame_header(codec.RESPONSE_END, 0, n - 1, 0), sent_before["/r%d" % n])
        got = self.front.read_until(lambda f: f[:3] == ("RESPONSE_END", 0, 3))
        self.assertEqual([(f[0], f[2]) for f in got], [
            ("STARTED", 1), ("RESPONSE_HEAD", 1), ("RESPONSE_BODY", 1), ("RESPONSE_END", 1),
            ("STARTED", 2), ("RESPONSE_HEAD", 2), ("RESPONSE_BODY", 2), ("RESPONSE_END", 2),
            ("STARTED", 3), ("RESPONSE_HEAD", 3), ("RESPONSE_BODY", 3), ("RESPONSE_END", 3),
        ])
        self.assertEqual(support.body_of(got[4:8]), b"/r2")
        self.assertEqual(got[1][3]["headers"], [list(h) for h in TEXT] + [["Content-Length", "3"]])

    def test_pipelined_requests_arrive_in_one_read(self):
        """The worker reads in large chunks (RECV_BUFFER_SIZE): requests the
        front batched into one write cost it one recv, not one each."""
        frames = [support.request_frame(i, path="/r%d" % i) for i in range(1, 9)]
        self.start(echo_app, preload=frames + [codec.encode_frame(codec.STOP, 0, 0)])
        self.thread.join(5)
        self.assertEqual(self.outcome, ["stopped"])
        self.assertEqual(self.sock.reads, 1)
        got = self.front.read_until(lambda f: f[:3] == ("RESPONSE_END", 0, 8))
        self.assertEqual(len([f for f in got if f[0] == "RESPONSE_END"]), 8)

    def test_response_goes_out_when_nothing_else_is_pending(self):
        front = self.start(echo_app)
        front.send(front.request(1, path="/one"))
        got = front.response(1)
        self.assertEqual(support.body_of(got), b"/one:")
        self.stop()


class FlowControlTest(LoopCase):
    def test_response_window_is_respected_and_frames_are_split(self):
        big = bytes(range(256)) * (12 * 1024)  # 3 MiB

        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return [big]
        front = self.start(app)
        front.send(front.request(1))
        received = 0
        frames = []
        # Without WINDOW the worker stops at RESPONSE_WINDOW bytes.
        while received < codec.RESPONSE_WINDOW:
            frame = front.read_frame()
            frames.append(frame)
            if frame[0] == "RESPONSE_BODY":
                received += len(frame[3]["data_hex"]) // 2
        self.assertEqual(received, codec.RESPONSE_WINDOW)
        front.sock.settimeout(0.3)
        with self.assertRaises(socket.timeout):
            front.read_frame()
        front.sock.settimeout(10)
        front.send(codec.encode_frame(codec.WINDOW, 0, 1, codec.encode_u32(received)))
        rest = front.response(1)
        body = support.body_of(frames + rest)
        self.assertEqual(body, big)
        sizes = [len(f[3]["data_hex"]) // 2 for f in frames + rest if f[0] == "RESPONSE_BODY"]
        self.assertLessEqual(max(sizes), codec.MAX_CHUNK)
        self.stop()

    def test_upload_is_granted_as_the_app_reads(self):
        total = 2 * 1024 * 1024
        seen = {}

        def app(environ, start_response):
            stream = environ["wsgi.input"]
            n = 0
            while True:
                chunk = stream.read(50000)
                if not chunk:
                    break
                n += len(chunk)
            seen["n"] = n
            start_response("200 OK", TEXT)
            return [str(n).encode()]
        front = self.start(app)
        front.send(front.request(1, method="POST", flags=codec.HAS_BODY))
        granted = codec.REQUEST_WINDOW
        sent = 0
        accepted = False
        while sent < total:
            if accepted and sent < granted:
                n = min(65536, granted - sent, total - sent)
                front.send(codec.encode_frame(codec.REQUEST_BODY, 0, 1, b"u" * n))
                sent += n
                continue
            frame = front.read_frame()
            if frame[0] == "STARTED":
                accepted = True
            elif frame[0] == "WANT_BODY":
                granted += frame[3]["n"]
                self.assertLessEqual(granted - sent, codec.REQUEST_WINDOW)
            else:
                self.fail("unexpected %r" % (frame,))
        front.send(codec.encode_frame(codec.REQUEST_END, 0, 1))
        got = front.response(1)
        self.assertEqual(support.body_of(got), str(total).encode())
        self.stop()

    def test_expect_continue_waits_for_the_first_read(self):
        def app(environ, start_response):
            time.sleep(0.2)
            data = environ["wsgi.input"].read()
            start_response("200 OK", TEXT)
            return [data]
        front = self.start(app)
        started = time.monotonic()
        front.send(front.request(1, method="PUT", flags=codec.HAS_BODY | codec.EXPECT_CONTINUE))
        self.assertEqual(front.read_frame()[0], "STARTED")
        want = front.read_frame()
        self.assertEqual(want[0], "WANT_BODY")
        self.assertGreaterEqual(time.monotonic() - started, 0.1)
        self.assertEqual(want[3], {"n": codec.REQUEST_WINDOW})
        front.send(codec.encode_frame(codec.REQUEST_BODY, 0, 1, b"payload"),
                   codec.encode_frame(codec.REQUEST_END, 0, 1))
        self.assertEqual(support.body_of(front.response(1)), b"payload")
        self.stop()


class CancelTest(LoopCase):
    def test_cancel_stops_a_stream_that_never_fills_its_window(self):
        closed = threading.Event()

        class Slow:
            def __iter__(self):
                for _ in range(1000):
                    time.sleep(0.01)
                    yield b"tick\n"

            def close(self):
                closed.set()

        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return Slow()
        front = self.start(app)
        front.send(front.request(1))
        front.read_until(lambda f: f[0] == "RESPONSE_BODY")
        front.send(codec.encode_frame(codec.CANCEL, 0, 1))
        got = front.response(1, window=False)
        self.assertEqual(got[-1][:2], ("RESPONSE_END", codec.ABORT))
        self.assertTrue(closed.wait(2))
        self.stop()

    def test_cancel_of_a_queued_request(self):
        ran = []

        def app(environ, start_response):
            ran.append(environ["PATH_INFO"])
            start_response("200 OK", TEXT)
            return [b"x"]
        preload = [support.request_frame(1, path="/a"), support.request_frame(2, path="/b"),
                   codec.encode_frame(codec.CANCEL, 0, 2), codec.encode_frame(codec.STOP, 0, 0)]
        self.start(app, preload)
        self.thread.join(5)
        got = self.front.read_until(lambda f: f[2] == 2 and f[0] == "RESPONSE_END")
        # Only stream 2's frames: with threads, stream 1's may come between them.
        self.assertEqual([(f[0], f[1]) for f in got if f[2] == 2], [("STARTED", 0), ("RESPONSE_END", 1)])
        self.assertEqual(ran, ["/a"])


class DispatchTest(LoopCase):
    def test_frames_for_unknown_streams_are_ignored(self):
        front = self.start(echo_app)
        front.send(codec.encode_frame(codec.WINDOW, 0, 99, codec.encode_u32(5)),
                   codec.encode_frame(codec.CANCEL, 0, 98),
                   codec.encode_frame(codec.REQUEST_BODY, 0, 97, b"x"),
                   codec.encode_frame(codec.REQUEST_END, 0, 96),
                   front.request(1, path="/after"))
        self.assertEqual(support.body_of(front.response(1)), b"/after:")
        self.stop()

    def test_ping_is_answered_with_its_nonce(self):
        # The front pings only ASGI workers; a WSGI worker answers anyway,
        # and a CANCEL with TIMED_OUT is a CANCEL to it.
        front = self.start(echo_app)
        front.send(codec.encode_frame(codec.PING, 0, 0, codec.encode_u32(424242)),
                   codec.encode_frame(codec.CANCEL, codec.TIMED_OUT, 9))
        self.assertEqual(front.read_frame(), ("PONG", 0, 0, {"nonce": 424242}))
        front.send(front.request(1, path="/after"))
        self.assertEqual(support.body_of(front.response(1)), b"/after:")
        self.stop()

    def test_a_head_reaches_the_stream_and_leaves_the_environ_as_it_was(self):
        head = {"method": "GET", "scheme": "https", "http_version": "1.1", "path": "/app/caf\xc3\xa9",
                "raw_path": "/app/caf%C3%A9", "query_string": "q=1", "root_path": "/app",
                "headers": [["host", "example.com"], ["cookie", "a"], ["cookie", "b"]],
                "client": ["203.0.113.7", 50000], "server": ["example.com", 443]}
        message = {"shared": [("SCRIPT_NAME", "/app")], "environ": [("PATH_INFO", "/caf\xc3\xa9")]}
        plain = frame_messages.encode("REQUEST", codec.SHARED_ENVIRON, 1, message)
        headed = frame_messages.encode("REQUEST", codec.SHARED_ENVIRON | codec.HAS_HEAD, 2,
                                       dict(message, head=head))
        link = FrameLink(None)
        for frame in (plain, headed):
            link.dispatch(frame[0], frame[1], struct.unpack(">I", frame[4:8])[0], memoryview(frame)[12:])
        first, second = link.pending
        self.assertIsNone(first.head)
        self.assertEqual(second.head, frame_messages.head_from_message(head))
        self.assertEqual(second.head.client, ("203.0.113.7", 50000))
        self.assertEqual(first.environ, second.environ)

    def test_the_executor_transports_meet_the_transport_protocol(self):
        from portico.stream import Stream
        from portico.stream_transport import StreamTransport
        from portico.transport import Transport
        self.assertIsInstance(StreamTransport(FrameLink(None), Stream(1, 0, {})), Transport)
        self.assertIsInstance(support.FakeTransport(), Transport)

    def test_the_asgi_transport_has_every_method_of_the_asgi_core_protocol(self):
        import inspect
        from portico.asgi.transport import HTTPTransport
        from portico.asgi_stream import AsgiStreamTransport
        wanted = {name for name, _ in inspect.getmembers(HTTPTransport, inspect.isfunction)
                  if not name.startswith("_")}
        for name in wanted:
            with self.subTest(name):
                ours = getattr(AsgiStreamTransport, name)
                self.assertEqual(inspect.iscoroutinefunction(ours),
                                 inspect.iscoroutinefunction(getattr(HTTPTransport, name)))
                self.assertEqual(list(inspect.signature(ours).parameters),
                                 list(inspect.signature(getattr(HTTPTransport, name)).parameters))
        self.assertIn("disconnected", AsgiStreamTransport.__slots__)

    def test_shared_environ_is_decoded_once_and_every_request_gets_its_own_dict(self):
        seen = []

        def app(environ, start_response):
            seen.append(dict(environ))
            environ["SCRIPT_NAME"] = "/changed-by-the-app"
            start_response("200 OK", TEXT)
            return [b""]

        def shared_request(stream_id, path, script_name):
            message = {"shared": [("SCRIPT_NAME", script_name), ("SERVER_NAME", "localhost")],
                       "environ": [("REQUEST_METHOD", "GET"), ("PATH_INFO", path)]}
            return frame_messages.encode("REQUEST", codec.SHARED_ENVIRON, stream_id, message)

        front = self.start(app)
        front.send(shared_request(1, "/a", "/app"), shared_request(2, "/b", "/app"), shared_request(3, "/c", "/other"))
        for stream_id in (1, 2, 3):
            front.response(stream_id)
        self.stop()
        # Sorted: with threads the three may run in any order.
        self.assertEqual(sorted((e["SCRIPT_NAME"], e["SERVER_NAME"], e["PATH_INFO"]) for e in seen),
                         [("/app", "localhost", "/a"), ("/app", "localhost", "/b"), ("/other", "localhost", "/c")],
                         "what one application call changed never reaches the next request")
        self.assertEqual(self.loop.link.environs.remembered, 2, "one remembered block per distinct shared part")

    def test_shared_environs_remembered_are_bounded(self):
        environs = EnvironDecoder()
        for n in range(SHARED_ENVIRONS + 5):
            shared = codec.encode_environ([("SERVER_NAME", "host%d" % n)])
            payload = codec.encode_u32(len(shared)) + shared + codec.encode_environ([("PATH_INFO", "/")])
            shared, head, own = codec.split_request(codec.SHARED_ENVIRON, memoryview(payload))
            self.assertIsNone(head)
            environ = environs.decode(shared, own)
            self.assertEqual(environ, {"SERVER_NAME": "host%d" % n, "PATH_INFO": "/"})
        self.assertLessEqual(environs.remembered, SHARED_ENVIRONS)

    def test_shared_block_overrunning_its_request_is_a_protocol_error(self):
        front = self.start(echo_app)
        front.send(codec.encode_frame(codec.REQUEST, codec.SHARED_ENVIRON, 1, codec.encode_u32(1000) + b"\x00"))
        self.thread.join(5)
        self.assertIsInstance(self.outcome[0], ChannelCorrupt)

    def test_requests_after_stop_are_not_accepted(self):
        preload = [support.request_frame(1), codec.encode_frame(codec.STOP, 0, 0), support.request_frame(2)]
        self.start(echo_app, preload)
        self.thread.join(5)
        self.assertEqual(self.outcome, ["stopped"])
        self.front.sock.shutdown(socket.SHUT_WR)
        self.sock.sock.close()
        frames = []
        while True:
            frame = self.front.read_frame()
            if frame is None:
                break
            frames.append(frame)
        self.assertEqual({f[2] for f in frames}, {1})

    def test_eof_is_channel_closed(self):
        front = self.start(echo_app)
        front.sock.shutdown(socket.SHUT_WR)
        self.thread.join(5)
        self.assertEqual(self.outcome, ["closed"])

    def test_worker_frame_from_the_front_is_a_protocol_error(self):
        front = self.start(echo_app)
        front.send(codec.encode_frame(codec.READY, 0, 0, codec.encode_u32(1)))
        self.thread.join(5)
        self.assertIsInstance(self.outcome[0], ChannelCorrupt)

    def test_a_websocket_frame_is_a_protocol_error_for_a_wsgi_worker(self):
        for ftype in (codec.WEBSOCKET_MESSAGE, codec.WEBSOCKET_CLOSE):
            with self.subTest(codec.TYPE_NAMES[ftype]):
                front = self.start(echo_app)
                front.send(codec.encode_frame(ftype, 0, 1, websocket_payloads.encode_websocket_close(1000, "")))
                self.thread.join(5)
                self.assertIsInstance(self.outcome[0], ChannelCorrupt)

    def test_corrupt_frame_during_an_input_read_is_not_an_app_error(self):
        caught = []

        def app(environ, start_response):
            try:
                environ["wsgi.input"].read()
            except Exception as exc:  # an app guarding its I/O must not swallow it
                caught.append(exc)
            start_response("200 OK", TEXT)
            return [b""]
        front = self.start(app)
        front.send(front.request(1, method="POST", flags=codec.HAS_BODY))
        self.assertEqual(front.read_frame()[0], "STARTED")
        front.send(struct.pack(">BBHII", 0x7F, 0, 0, 1, 0))
        self.thread.join(5)
        self.assertIsInstance(self.outcome[0], ChannelCorrupt)
        self.assertEqual(caught, [])


# The same behaviour from the thread-pool loop.
class ThreadedFlowControlTest(FlowControlTest):
    threads = 3


class ThreadedCancelTest(CancelTest):
    threads = 3


class ThreadedDispatchTest(DispatchTest):
    threads = 3


class ThreadPoolTest(LoopCase):
    threads = 4

    def test_requests_run_concurrently(self):
        barrier = threading.Barrier(4, timeout=5)
        seen = []

        def app(environ, start_response):
            seen.append(environ["wsgi.multithread"])
            barrier.wait()  # only passes if four requests run at once
            start_response("200 OK", TEXT)
            return [threading.current_thread().name.encode()]
        front = self.start(app)
        front.send(*[front.request(i) for i in (1, 2, 3, 4)])
        names = {support.body_of(front.response(i)) for i in (1, 2, 3, 4)}
        self.assertEqual(len(names), 4)
        self.assertEqual(seen, [True] * 4)
        self.stop()

    def test_stop_finishes_in_flight_requests(self):
        def app(environ, start_response):
            time.sleep(0.2)
            start_response("200 OK", TEXT)
            return [b"done"]
        front = self.start(app)
        front.send(front.request(1), front.request(2), codec.encode_frame(codec.STOP, 0, 0))
        self.thread.join(5)
        self.assertEqual(self.outcome, ["stopped"])
        self.assertEqual(support.body_of(front.response(1)), b"done")
        self.assertEqual(support.body_of(front.response(2)), b"done")

    def test_many_streams_with_bodies(self):
        front = self.start(echo_app)
        frames = []
        for i in range(1, 41):
            frames.append(front.request(i, path="/s%d" % i, method="POST", flags=codec.HAS_BODY))
        front.send(*frames)
        accepted = set()
        while len(accepted) < 40:
            frame = front.read_frame()
            if frame[0] == "STARTED":
                accepted.add(frame[2])
                front.send(codec.encode_frame(codec.REQUEST_BODY, 0, frame[2], b"body%d" % frame[2]),
                           codec.encode_frame(codec.REQUEST_END, 0, frame[2]))
            else:
                front.aside.append(frame)
        for i in range(1, 41):
            self.assertEqual(support.body_of(front.response(i)), b"/s%d:body%d" % (i, i))
        self.stop()


if __name__ == "__main__":
    unittest.main()
