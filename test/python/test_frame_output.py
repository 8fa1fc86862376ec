"""FrameOutput (the frames waiting for the channel) and BodyQueue (request
body waiting for the application): body bytes by reference, sendmsg's
partial writes resumed at the right byte, and the reads of a body that
came in frames of any size."""
import socket
import threading
import unittest

import support
from portico import codec, frame_output
from portico.body_queue import BodyQueue
from portico.executor import Executor
from portico.frame_output import BY_REFERENCE, FrameOutput
from portico.inline_loop import InlineLoop
from portico.worker import CHANNEL_SEND_BUFFER, widen_send_buffer


class ShortWriter:
    """A socket whose sendmsg takes at most ``limit`` bytes a call, and
    raises BlockingIOError every ``block_every``-th call (a non-blocking
    socket with no room), recording each call's buffers."""

    def __init__(self, limit, block_every=0):
        self.limit = limit
        self.block_every = block_every
        self.calls = []
        self.written = bytearray()

    def sendmsg(self, buffers):
        self.calls.append(list(buffers))
        if self.block_every and len(self.calls) % self.block_every == 0:
            raise BlockingIOError()
        data = b"".join(buffers)[:self.limit]
        self.written += data
        return len(data)


def frames(*specs):
    """(header, payload) pairs and their concatenation."""
    pairs = [(codec.frame_header(t, 0, s, len(p)), p) for t, s, p in specs]
    return pairs, b"".join(h + p for h, p in pairs)


class FrameOutputTest(unittest.TestCase):
    def test_small_frames_are_copied_into_one_buffer(self):
        out = FrameOutput()
        pairs, expected = frames((codec.STARTED, 1, b""), (codec.RESPONSE_BODY, 1, b"abc"),
                                 (codec.RESPONSE_END, 1, b""))
        for header, payload in pairs:
            out.add(header, payload)
        sock = ShortWriter(1 << 20)
        out.write_all(sock)
        self.assertEqual(len(sock.calls), 1)
        self.assertEqual(len(sock.calls[0]), 1)
        self.assertEqual(bytes(sock.written), expected)
        self.assertFalse(out)
        self.assertEqual((out.size, out.copied), (0, 0))

    def test_a_large_body_is_sent_by_reference_between_its_header_and_the_next_frames(self):
        body = bytes(range(256)) * 400
        out = FrameOutput()
        pairs, expected = frames((codec.RESPONSE_HEAD, 1, b"\x00\xc8\x00\x00"), (codec.RESPONSE_BODY, 1, body),
                                 (codec.RESPONSE_END, 1, b""))
        for header, payload in pairs:
            out.add(header, payload)
        self.assertEqual(out.size, len(expected))
        self.assertEqual(out.copied, len(expected) - len(body))
        sock = ShortWriter(1 << 20)
        out.write_all(sock)
        self.assertEqual(len(sock.calls), 1)
        buffers = sock.calls[0]
        self.assertEqual(len(buffers), 3)
        self.assertIs(buffers[1], body)
        self.assertEqual(bytes(sock.written), expected)

    def test_a_read_only_view_of_bytes_is_kept_and_mutable_payloads_are_copied(self):
        body = b"x" * (3 * BY_REFERENCE)
        view = memoryview(body)[BY_REFERENCE:]
        mutable = bytearray(b"m" * BY_REFERENCE)
        out = FrameOutput()
        out.add(b"H1", view)
        out.add(b"H2", mutable)
        out.add(b"H3", memoryview(mutable))
        expected = b"H1" + bytes(view) + b"H2" + bytes(mutable) + b"H3" + bytes(mutable)
        mutable[:] = b"z" * BY_REFERENCE  # the caller reuses its buffer
        sock = ShortWriter(1 << 20)
        out.write_all(sock)
        self.assertIs(sock.calls[0][1], view)
        self.assertEqual(bytes(sock.written), expected)

    def test_partial_writes_resume_at_the_first_byte_not_sent(self):
        body = bytes(range(256)) * 300
        for limit in (1, 7, 12, 13, BY_REFERENCE - 1, len(body), len(body) + 12, len(body) + 13):
            with self.subTest(limit=limit):
                out = FrameOutput()
                pairs, expected = frames((codec.STARTED, 1, b""), (codec.RESPONSE_BODY, 1, body),
                                         (codec.RESPONSE_BODY, 1, b"tail"), (codec.RESPONSE_BODY, 1, body),
                                         (codec.RESPONSE_END, 1, b""))
                for header, payload in pairs:
                    out.add(header, payload)
                sock = ShortWriter(limit)
                out.write_all(sock)
                self.assertEqual(bytes(sock.written), expected)
                self.assertEqual(out.size, 0)

    def test_a_non_blocking_socket_without_room_keeps_everything_for_the_next_write(self):
        body = b"b" * (4 * BY_REFERENCE)
        out = FrameOutput()
        pairs, expected = frames((codec.RESPONSE_BODY, 1, body), (codec.RESPONSE_END, 1, b""))
        for header, payload in pairs:
            out.add(header, payload)
        sock = ShortWriter(5000, block_every=2)
        while out:
            try:
                out.write(sock)
            except BlockingIOError:
                pass
            self.assertEqual(out.size, len(expected) - len(sock.written))
        self.assertEqual(bytes(sock.written), expected)

    def test_frames_added_after_a_partial_write_follow_the_rest(self):
        out = FrameOutput()
        out.add(b"AAAA", b"aaaa")
        sock = ShortWriter(3)
        out.write(sock)
        out.add(b"BBBB", b"b" * BY_REFERENCE)
        out.add(b"CCCC")
        sock.limit = 1 << 20
        out.write_all(sock)
        self.assertEqual(bytes(sock.written), b"AAAAaaaaBBBB" + b"b" * BY_REFERENCE + b"CCCC")

    def test_no_more_than_iov_max_buffers_go_to_one_sendmsg(self):
        out = FrameOutput()
        body = b"v" * BY_REFERENCE
        count = frame_output._IOV_MAX  # each frame is two buffers: header, body
        for stream in range(count):
            out.add(codec.frame_header(codec.RESPONSE_BODY, 0, stream, len(body)), body)
        sock = ShortWriter(1 << 30)
        out.write_all(sock)
        self.assertGreater(len(sock.calls), 1)
        self.assertTrue(all(len(call) <= frame_output._IOV_MAX for call in sock.calls))
        self.assertEqual(len(sock.written), count * (codec.HEADER_SIZE + len(body)))

    def test_a_real_socket_gets_every_byte_through_a_small_send_buffer(self):
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        self.addCleanup(theirs.close)
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        body = bytes(range(256)) * 4096  # 1 MiB, many times the buffer
        out = FrameOutput()
        pairs, expected = frames((codec.RESPONSE_BODY, 1, body), (codec.RESPONSE_END, 1, b""))
        for header, payload in pairs:
            out.add(header, payload)
        received = bytearray()

        def read():
            while len(received) < len(expected):
                received.extend(ours.recv(65536))
        reader = threading.Thread(target=read)
        reader.start()
        out.write_all(theirs)
        reader.join(10)
        self.assertEqual(bytes(received), expected)


class LinkWritesTest(unittest.TestCase):
    """The inline loop's writes, counted on a socket that records each sendmsg."""

    def serve(self, app, *requests):
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        self.addCleanup(theirs.close)
        front = support.FakeFront(ours)
        calls = []

        class Recording:
            def sendmsg(self, buffers):
                calls.append(list(buffers))
                return theirs.sendmsg(buffers)

            def recv_into(self, *args):
                return theirs.recv_into(*args)
        front.send(*requests, codec.encode_frame(codec.STOP, 0, 0))
        # In a thread: a body larger than the socket's buffer waits for the reader.
        worker = threading.Thread(target=InlineLoop(Recording()).serve, args=(Executor(app),), daemon=True)
        worker.start()
        got = front.read_until(lambda f: f[0] == "RESPONSE_END")
        worker.join(10)
        self.assertFalse(worker.is_alive())
        return got, calls

    def test_a_whole_response_leaves_in_one_write_with_its_body_uncopied(self):
        body = bytes(range(256)) * 400  # 100 KiB

        def app(environ, start_response):
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return [body]
        got, calls = self.serve(app, support.request_frame(1))
        self.assertEqual([f[0] for f in got], ["STARTED", "RESPONSE_HEAD", "RESPONSE_BODY", "RESPONSE_END"])
        self.assertEqual(support.body_of(got), body)
        # STARTED before the application ran; then head, body and end together.
        self.assertEqual(len(calls), 2)
        self.assertTrue(any(buffer is body for buffer in calls[1]))

    def test_a_body_over_max_chunk_goes_in_frames_that_are_views_of_it(self):
        body = bytes(range(256)) * 2400  # 600 KiB: 256 + 256 + 88 KiB

        def app(environ, start_response):
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return [body]
        got, calls = self.serve(app, support.request_frame(1))
        sizes = [len(bytes.fromhex(f[3]["data_hex"])) for f in got if f[0] == "RESPONSE_BODY"]
        self.assertEqual(sizes, [codec.MAX_CHUNK, codec.MAX_CHUNK, len(body) - 2 * codec.MAX_CHUNK])
        self.assertEqual(support.body_of(got), body)
        views = [b for call in calls for b in call if type(b) is memoryview]
        self.assertEqual(len(views), 3)
        self.assertTrue(all(view.obj is body for view in views))


class ChannelSendBufferTest(unittest.TestCase):
    def test_the_workers_end_gets_a_send_buffer_of_a_response_window(self):
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        self.addCleanup(theirs.close)
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        widen_send_buffer(theirs)
        try:
            with open("/proc/sys/net/core/wmem_max") as f:
                allowed = int(f.read())
        except OSError:
            allowed = CHANNEL_SEND_BUFFER
        self.assertGreaterEqual(theirs.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF),
                                min(allowed, CHANNEL_SEND_BUFFER))

    def test_a_larger_buffer_is_left_alone(self):
        ours, theirs = socket.socketpair()
        self.addCleanup(ours.close)
        self.addCleanup(theirs.close)
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 * CHANNEL_SEND_BUFFER)
        before = theirs.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        widen_send_buffer(theirs)
        self.assertEqual(theirs.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF), before)


class BodyQueueTest(unittest.TestCase):
    def queue(self, *chunks):
        q = BodyQueue()
        for chunk in chunks:
            q.append(memoryview(bytearray(chunk)))  # as dispatch gives them: views of a reused buffer
        return q

    def test_a_read_of_a_whole_payload_is_that_payload(self):
        q = BodyQueue()
        payload = b"p" * 1000
        q.append(payload)
        q.append(b"next")
        taken = q.take(1000)
        self.assertEqual(taken, payload)
        self.assertEqual(len(q), 4)

    def test_reads_across_payload_boundaries(self):
        data = bytes(range(256)) * 40
        cuts = [1, 100, 3000, 2, 4000, 3137]
        pieces, pos = [], 0
        for cut in cuts:
            pieces.append(data[pos:pos + cut])
            pos += cut
        for size in (1, 3, 99, 1000, 4096, 20000):
            with self.subTest(size=size):
                q = self.queue(*pieces)
                out = []
                while q:
                    out.append(q.take(size))
                    self.assertLessEqual(len(out[-1]), size)
                self.assertEqual(b"".join(out), data)
                self.assertEqual(q.take(size), b"")

    def test_take_all_and_past_the_end(self):
        q = self.queue(b"ab", b"cd", b"ef")
        self.assertEqual(q.take(1), b"a")
        self.assertEqual(q.take(), b"bcdef")
        self.assertFalse(q)
        q = self.queue(b"ab", b"cd")
        self.assertEqual(q.take(100), b"abcd")

    def test_empty_payloads_are_not_kept(self):
        q = self.queue(b"", b"x", b"")
        self.assertEqual(len(q), 1)
        self.assertEqual(q.take(), b"x")

    def test_line_end_looks_across_payloads_and_within_the_limit(self):
        q = self.queue(b"ab", b"c\nd", b"e\n")
        self.assertEqual(q.line_end(-1), 4)
        self.assertEqual(q.line_end(4), 4)
        self.assertEqual(q.line_end(3), -1)
        self.assertEqual(q.take(4), b"abc\n")
        self.assertEqual(q.line_end(-1), 3)
        self.assertEqual(q.take(1), b"d")
        self.assertEqual(q.line_end(1), -1)
        self.assertEqual(q.line_end(2), 2)
        self.assertEqual(self.queue(b"no newline").line_end(-1), -1)


if __name__ == "__main__":
    unittest.main()
