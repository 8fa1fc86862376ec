"""wsgi.input: the file API, the end of the body, flow-control grants,
Expect: 100-continue and a client that vanished."""
import unittest

import support
from portico.codec import EXPECT_CONTINUE, HAS_BODY, REQUEST_WINDOW
from portico.errors import ClientDisconnected
from portico.input import RequestInput
from portico.stream import Stream

BODY = b"first line\nsecond line\n\nlast line without newline"


class ReadTest(unittest.TestCase):
    def test_read_n_until_the_end(self):
        stream, _, _ = support.make_input(chunks=[b"abcdefg", b"hij"])
        self.assertEqual([stream.read(4), stream.read(4), stream.read(4), stream.read(4)],
                         [b"abcd", b"efgh", b"ij", b""])

    def test_read_n_blocks_across_chunks(self):
        stream, _, link = support.make_input(chunks=[b"ab", b"cd", b"ef"], prebuffer=False)
        self.assertEqual(stream.read(5), b"abcde")
        self.assertEqual(stream.read(5), b"f")

    def test_read_all_forms(self):
        for call in (lambda s: s.read(), lambda s: s.read(-1), lambda s: s.read(None)):
            stream, _, _ = support.make_input(chunks=[b"abc", b"def"], prebuffer=False)
            self.assertEqual(call(stream), b"abcdef")
            self.assertEqual(stream.read(), b"")

    def test_read_zero(self):
        stream, _, link = support.make_input(body=b"abc", prebuffer=False)
        self.assertEqual(stream.read(0), b"")
        self.assertEqual(link.waits, 0)

    def test_no_body(self):
        stream, _, link = support.make_input(flags=0, prebuffer=False)
        self.assertEqual(stream.read(), b"")
        self.assertEqual(stream.readline(), b"")
        self.assertEqual(link.grants, [])

    def test_readline(self):
        stream, _, _ = support.make_input(chunks=[BODY[:5], BODY[5:17], BODY[17:]], prebuffer=False)
        self.assertEqual([stream.readline() for _ in range(5)],
                         [b"first line\n", b"second line\n", b"\n", b"last line without newline", b""])

    def test_readline_with_limit(self):
        stream, _, _ = support.make_input(BODY)
        self.assertEqual(stream.readline(4), b"firs")
        self.assertEqual(stream.readline(100), b"t line\n")
        self.assertEqual(stream.readline(0), b"")
        self.assertEqual(stream.readline(None), b"second line\n")

    def test_readlines_and_hint(self):
        stream, _, _ = support.make_input(BODY)
        self.assertEqual(stream.readlines(), BODY.splitlines(True))
        stream, _, _ = support.make_input(BODY)
        self.assertEqual(stream.readlines(12), [b"first line\n", b"second line\n"])

    def test_iteration(self):
        stream, _, _ = support.make_input(chunks=[b"a\nb", b"\nc"], prebuffer=False)
        self.assertEqual(list(stream), [b"a\n", b"b\n", b"c"])

    def test_works_under_wsgiref_validate(self):
        from wsgiref.validate import InputWrapper
        stream, _, _ = support.make_input(BODY)
        wrapped = InputWrapper(stream)
        self.assertEqual(wrapped.readline(), b"first line\n")
        self.assertEqual(wrapped.read(6), b"second")
        self.assertEqual(wrapped.readlines(), [b" line\n", b"\n", b"last line without newline"])


class FlowControlTest(unittest.TestCase):
    def test_no_grant_while_the_initial_window_is_plenty(self):
        stream, state, link = support.make_input(chunks=[b"x" * 1000], prebuffer=False)
        self.assertEqual(state.granted, REQUEST_WINDOW)
        self.assertEqual(stream.read(10), b"x" * 10)
        self.assertEqual(link.grants, [])

    def test_grants_back_up_to_the_window_as_the_app_consumes(self):
        half = REQUEST_WINDOW // 2
        chunks = [b"a" * half, b"b" * half, b"c" * half, b"d" * 10]
        stream, state, link = support.make_input(chunks=chunks, prebuffer=False)
        # The whole first window arrives: 256 KiB buffered, nothing outstanding.
        link.wait(state, lambda: len(state.body) >= 2 * half)
        self.assertEqual(stream.read(half + 1), b"a" * half + b"b")
        # Buffered fell under half the window: topped back up to the window.
        self.assertEqual(link.grants, [REQUEST_WINDOW - (half - 1)])
        self.assertLessEqual((state.granted - state.received) + len(state.body), REQUEST_WINDOW)

    def test_one_gib_upload_never_holds_more_than_a_window(self):
        total = 1024 * 1024 * 1024
        front = GrantingFront(total)
        stream = RequestInput(front.stream, front)
        read = 0
        while True:
            chunk = stream.read(1 << 20)  # reads bigger than the window must not deadlock
            if not chunk:
                break
            read += len(chunk)
        self.assertEqual(read, total)
        self.assertLessEqual(front.peak, REQUEST_WINDOW)

    def test_readline_longer_than_the_window_does_not_deadlock(self):
        size = 3 * REQUEST_WINDOW
        front = GrantingFront(size, fill=b"y", last=b"\n")
        stream = RequestInput(front.stream, front)
        self.assertEqual(stream.readline(), b"y" * (size - 1) + b"\n")
        self.assertEqual(stream.readline(), b"")
        self.assertLessEqual(front.peak, REQUEST_WINDOW)


class GrantingFront(support.FakeLink):
    """Sends a body of ``total`` bytes in 64 KiB frames, never more than the
    worker granted, like the real front."""

    def __init__(self, total, fill=b"z", last=b""):
        super().__init__()
        self.stream = Stream(1, HAS_BODY, {})
        self.total = total
        self.block = fill * 65536
        self.last = last
        self.sent = 0
        self.peak = 0

    def wait(self, st, ready):
        while not ready():
            allowed = st.granted - st.received
            if self.sent >= self.total:
                st.on_end(0)
            elif allowed <= 0:
                raise AssertionError("deadlock: waiting with no grant outstanding")
            else:
                n = min(allowed, len(self.block), self.total - self.sent)
                data = self.block[:n]
                if self.sent + n == self.total and self.last:
                    data = data[:-len(self.last)] + self.last
                st.on_body(data)
                self.sent += n
            self.peak = max(self.peak, len(st.body))


class ExpectContinueTest(unittest.TestCase):
    def test_first_read_sends_want_body(self):
        stream, state, link = support.make_input(chunks=[b"hello"], flags=HAS_BODY | EXPECT_CONTINUE,
                                                 prebuffer=False)
        self.assertEqual(state.granted, 0)
        self.assertEqual(link.grants, [])
        self.assertEqual(stream.read(5), b"hello")
        self.assertEqual(link.grants, [REQUEST_WINDOW])

    def test_readline_also_sends_it(self):
        stream, _, link = support.make_input(chunks=[b"a\n"], flags=HAS_BODY | EXPECT_CONTINUE, prebuffer=False)
        self.assertEqual(stream.readline(), b"a\n")
        self.assertEqual(link.grants, [REQUEST_WINDOW])

    def test_unread_body_sends_nothing(self):
        _, _, link = support.make_input(chunks=[b"a"], flags=HAS_BODY | EXPECT_CONTINUE, prebuffer=False)
        self.assertEqual(link.grants, [])


class DisconnectTest(unittest.TestCase):
    def test_aborted_body_raises_after_what_arrived(self):
        stream, _, _ = support.make_input(chunks=[b"partial"], end_flags=1, prebuffer=False)
        self.assertEqual(stream.read(7), b"partial")
        with self.assertRaises(OSError) as caught:
            stream.read(1)
        self.assertIsInstance(caught.exception, ClientDisconnected)
        self.assertIn("client disconnected", str(caught.exception))

    def test_read_all_of_an_aborted_body_raises(self):
        stream, _, _ = support.make_input(chunks=[b"partial"], end_flags=1, prebuffer=False)
        with self.assertRaises(ClientDisconnected):
            stream.read()

    def test_cancel_while_waiting_raises(self):
        state = Stream(1, HAS_BODY, {})
        link = support.FakeLink([("body", b"ab"), ("cancel", None)])
        stream = RequestInput(state, link)
        with self.assertRaises(ClientDisconnected):
            stream.read(10)


if __name__ == "__main__":
    unittest.main()
