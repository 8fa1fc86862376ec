"""The PEP 3333 executor against an in-memory transport. Fixture apps that
are valid run inside wsgiref.validate, so a server-side slip fails them."""
import collections
import io
import os
import re
import sys
import tempfile
import unittest
import warnings
from wsgiref import validate

import support
from portico.errors import ClientDisconnected, WSGIViolation
from portico.executor import Executor
from portico.file_wrapper import FileWrapper

sys.path.insert(0, support.FIXTURE_APPS)
import response_app  # noqa: E402  (test/fixtures/apps, shared with the TS integration tests)
import violations_app  # noqa: E402

TEXT = [("Content-Type", "text/plain")]


def run(app, environ=None, transport=None, validated=True, **executor_args):
    environ = support.base_environ() if environ is None else environ
    transport = support.FakeTransport() if transport is None else transport
    executor = Executor(validate.validator(app) if validated else app, **executor_args)
    with warnings.catch_warnings():
        warnings.simplefilter("error", validate.WSGIWarning)
        executor.handle(environ, transport)
    return transport



def swallows_its_violation(environ, start_response):
    """Catches the error its bad status raised and carries on: still a violation."""
    try:
        start_response("200 OK\r\nX: y", TEXT)
    except WSGIViolation:
        pass
    start_response("200 OK", TEXT)
    return [b"sneaky"]

class Closing:
    """A response iterable that records close() and can fail on cue."""

    def __init__(self, chunks, fail_at=None, close_raises=False):
        self.chunks = chunks
        self.fail_at = fail_at
        self.close_raises = close_raises
        self.closed = 0

    def __iter__(self):
        for index, chunk in enumerate(self.chunks):
            if index == self.fail_at:
                raise RuntimeError("iteration failed")
            yield chunk

    def close(self):
        self.closed += 1
        if self.close_raises:
            raise RuntimeError("close failed")


class EnvironTest(unittest.TestCase):
    def test_wsgi_keys(self):
        seen = {}

        def app(environ, start_response):
            seen.update(environ)
            start_response("200 OK", TEXT)
            return [b""]
        block = support.base_environ(path="/\u00c3\u00a9", **{"wsgi.url_scheme": "https"})
        run(app, block, multithread=False, multiprocess=True)
        self.assertEqual(seen["wsgi.version"], (1, 0))
        self.assertEqual(seen["wsgi.url_scheme"], "https")
        self.assertIs(seen["wsgi.multithread"], False)
        self.assertIs(seen["wsgi.multiprocess"], True)
        self.assertIs(seen["wsgi.run_once"], False)
        self.assertIs(seen["wsgi.input_terminated"], True)
        self.assertIs(seen["wsgi.file_wrapper"], FileWrapper)
        self.assertEqual(seen["PATH_INFO"], "/\u00c3\u00a9")
        self.assertTrue(hasattr(seen["wsgi.errors"], "write"))

    def test_multithread_flag_and_the_real_stderr(self):
        seen = {}

        def app(environ, start_response):
            seen.update(environ)
            start_response("200 OK", TEXT)
            return []
        run(app, validated=False, multithread=True, multiprocess=False)
        self.assertIs(seen["wsgi.multithread"], True)
        self.assertIs(seen["wsgi.multiprocess"], False)
        self.assertIs(seen["wsgi.errors"], sys.stderr)

    def test_environ_is_the_fresh_block_dict(self):
        block = support.base_environ()
        seen = []

        def app(environ, start_response):
            seen.append(environ)
            start_response("200 OK", TEXT)
            return []
        run(app, block, validated=False)
        self.assertIs(seen[0], block)
        self.assertIs(type(seen[0]), dict)


class ResponseTest(unittest.TestCase):
    # wsgiref.validate hides a returned list behind its iterator wrapper, so
    # the tests of what a list gets (a computed Content-Length, no flush per
    # chunk) run the app unwrapped.
    def test_list_gets_a_computed_content_length(self):
        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return [b"hello ", b"world"]
        t = run(app, validated=False)
        self.assertEqual(t.kinds(), ["head", "body", "end"])
        self.assertEqual(t.head(), ("head", 200, "OK", TEXT + [("Content-Length", "11")]))
        self.assertEqual(t.body(), b"hello world")
        self.assertEqual(t.events[-1], ("end", False))
        self.assertEqual(t.flushes, 0)

    def test_tuple_and_empty_list(self):
        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return ()
        t = run(app, validated=False)
        self.assertEqual(t.head()[3], TEXT + [("Content-Length", "0")])
        self.assertEqual(t.kinds(), ["head", "end"])

    def test_declared_content_length_is_kept(self):
        def app(environ, start_response):
            start_response("200 OK", TEXT + [("Content-Length", "2")])
            return [b"ok"]
        self.assertEqual(run(app, validated=False).head()[3], TEXT + [("Content-Length", "2")])

    def test_no_content_length_for_204_304_and_1xx(self):
        for status in ("204 No Content", "304 Not Modified", "199 Whatever"):
            with self.subTest(status):
                def app(environ, start_response):
                    start_response(status, [])
                    return []
                self.assertEqual(run(app, validated=False).head()[3], [])

    def test_no_content_length_for_generators(self):
        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return iter([b"a", b"b"])
        t = run(app)
        self.assertEqual(t.head()[3], TEXT)
        self.assertEqual(t.bodies(), [b"a", b"b"])
        self.assertEqual(t.flushes, 2)  # streaming: every chunk is pushed out

    def test_no_content_length_when_write_was_used(self):
        def app(environ, start_response):
            write = start_response("200 OK", TEXT)
            write(b"hello ")
            return [b"world"]
        t = run(app)
        self.assertEqual(t.head()[3], TEXT)
        self.assertEqual(t.body(), b"hello world")
        self.assertEqual(t.kinds(), ["head", "body", "body", "end"])

    def test_empty_write_does_not_send_headers_nor_allow_a_length(self):
        def app(environ, start_response):
            write = start_response("200 OK", TEXT)
            write(b"")
            return [b"x"]
        t = run(app)
        self.assertEqual(t.head()[3], TEXT)

    def test_headers_go_out_with_the_first_non_empty_chunk(self):
        t = support.FakeTransport()
        snapshots = []

        def app(environ, start_response):
            start_response("200 OK", TEXT)

            def body():
                yield b""
                snapshots.append(t.kinds())
                yield b""
                snapshots.append(t.kinds())
                yield b"data"
                snapshots.append(t.kinds())
            return body()
        run(app, transport=t)
        self.assertEqual(snapshots, [[], [], ["head", "body"]])

    def test_empty_streamed_body_sends_headers_at_the_end(self):
        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return iter([b"", b""])
        t = run(app)
        self.assertEqual(t.kinds(), ["head", "end"])
        self.assertEqual(t.head()[3], TEXT)

    def test_start_response_inside_the_first_iteration(self):
        # PEP 3333 allows start_response to be called as late as the first next().
        def app(environ, start_response):
            def body():
                start_response("201 Created", TEXT)
                yield b"late"
            return body()
        t = run(app)
        self.assertEqual(t.head()[1:3], (201, "Created"))

    def test_big_body_is_sent_whole_to_the_transport(self):
        big = os.urandom(600000)

        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return [big[:1000], big[1000:]]
        t = run(app, validated=False)
        self.assertEqual(t.body(), big)
        self.assertEqual(t.head()[3][-1], ("Content-Length", "600000"))

    def test_small_list_is_joined_into_one_send(self):
        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return [b"a", b"b", b"c"]
        self.assertEqual(run(app, validated=False).bodies(), [b"abc"])

    def test_status_without_reason(self):
        def app(environ, start_response):
            start_response("200", [])
            return []
        self.assertEqual(run(app, validated=False).head()[1:3], (200, ""))

    def test_fixture_response_app(self):
        cases = {
            "/write": (200, b"hello world"),
            "/exc-info-before-headers": (500, b"replaced"),
            "/single": (200, b"single body"),
            "/chunked": (200, b"onetwothree"),
            "/content-length": (200, b"hello"),
        }
        for path, (code, body) in cases.items():
            with self.subTest(path):
                t = run(response_app.application, support.base_environ(path=path), validated=False)
                self.assertEqual(t.head()[1], code)
                self.assertEqual(t.body(), body)
                self.assertEqual(t.events[-1], ("end", False))


class ContentLengthMismatchTest(unittest.TestCase):
    def test_too_long_is_cut_at_the_declared_length_and_aborts(self):
        # PEP 3333 "Handling the Content-Length Header": never more than the
        # declared length; the cut response must not leave the connection
        # open for another (ABORT makes the front close it).
        with support.CapturedStderr() as err:
            t = run(response_app.application, support.base_environ(path="/too-long"), validated=False)
        self.assertEqual(t.body(), b"hello")
        self.assertEqual(t.events[-1], ("end", True))
        self.assertIn("GET /too-long: the application sent more than its Content-Length of 5 bytes",
                      err.getvalue())

    def test_too_long_stops_iterating_and_closes_the_iterable(self):
        it = Closing([b"hel", b"lo world", b"never asked for"])
        asked = []

        def app(environ, start_response):
            start_response("200 OK", TEXT + [("Content-Length", "5")])
            for chunk in it:
                asked.append(chunk)
                yield chunk
        with support.CapturedStderr():
            t = run(app, validated=False)
        self.assertEqual(asked, [b"hel", b"lo world"])
        self.assertEqual(t.body(), b"hello")
        self.assertEqual(t.events[-1], ("end", True))

    def test_too_long_through_write_aborts(self):
        def app(environ, start_response):
            write = start_response("200 OK", TEXT + [("Content-Length", "3")])
            write(b"abcdef")
            return []
        with support.CapturedStderr() as err:
            t = run(app)
        self.assertEqual(t.body(), b"abc")
        self.assertEqual(t.events[-1], ("end", True))
        self.assertEqual(err.getvalue().count("more than its Content-Length"), 1)

    def test_too_long_list_aborts(self):
        def app(environ, start_response):
            start_response("200 OK", TEXT + [("Content-Length", "2")])
            return [b"ab", b"cd"]
        with support.CapturedStderr():
            t = run(app, validated=False)
        self.assertEqual(t.body(), b"ab")
        self.assertEqual(t.events[-1], ("end", True))

    def test_too_long_for_head_is_no_excess(self):
        # The front sends no body for HEAD: nothing goes out past the length.
        with support.CapturedStderr() as err:
            t = run(response_app.application, support.base_environ(method="HEAD", path="/too-long"),
                    validated=False)
        self.assertEqual(t.events[-1], ("end", False))
        self.assertEqual(err.getvalue(), "")

    def test_too_short_aborts(self):
        with support.CapturedStderr() as err:
            t = run(response_app.application, support.base_environ(path="/too-short"), validated=False)
        self.assertEqual(t.body(), b"hello")
        self.assertEqual(t.events[-1], ("end", True))
        self.assertIn("less than its Content-Length", err.getvalue())

    def test_head_with_no_body_is_fine(self):
        def app(environ, start_response):
            start_response("200 OK", TEXT + [("Content-Length", "100")])
            return []
        t = run(app, support.base_environ(method="HEAD"))
        self.assertEqual(t.events[-1], ("end", False))


class ExcInfoTest(unittest.TestCase):
    def test_replaces_status_and_headers_before_anything_was_sent(self):
        t = run(response_app.application, support.base_environ(path="/exc-info-before-headers"))
        self.assertEqual(t.head()[1:3], (500, "Internal Server Error"))
        self.assertIn(("X-Second", "1"), t.head()[3])
        self.assertNotIn(("X-First", "1"), t.head()[3])

    def test_reraises_after_headers_were_sent(self):
        t = run(response_app.application, support.base_environ(path="/exc-info-after-headers"), validated=False)
        self.assertEqual(t.kinds(), ["head", "body", "error"])
        self.assertEqual(t.body(), b"partial")
        status, text = t.error()[1:]
        self.assertEqual(status, 500)
        self.assertTrue(text.startswith("Error handling request GET /exc-info-after-headers\n"))
        self.assertIn("ValueError: too late to replace", text)

    def test_exc_info_as_the_first_call_is_just_a_call(self):
        def app(environ, start_response):
            try:
                raise KeyError("x")
            except KeyError:
                start_response("500 Oops", TEXT, sys.exc_info())
            return [b"e"]
        self.assertEqual(run(app).head()[1], 500)


class ErrorTest(unittest.TestCase):
    def test_app_raising_gives_error_with_request_line_and_traceback(self):
        def app(environ, start_response):
            raise RuntimeError("boom")
        t = run(app, support.base_environ(path="/p\u00c3\u00a9", query="a=1&b=2"))
        self.assertEqual(t.kinds(), ["error"])
        status, text = t.error()[1:]
        self.assertEqual(status, 500)
        self.assertTrue(text.startswith("Error handling request GET /p\u00e9?a=1&b=2\nTraceback (most recent call last):"),
                        text)
        self.assertIn("RuntimeError: boom", text)

    def test_raise_after_start_response_before_body(self):
        def app(environ, start_response):
            start_response("200 OK", TEXT)
            raise RuntimeError("late")
        t = run(app)
        self.assertEqual(t.kinds(), ["error"])

    def test_raise_in_iteration_after_body_went_out(self):
        it = Closing([b"a", b"b"], fail_at=1)

        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return it
        t = run(app, validated=False)
        self.assertEqual(t.kinds(), ["head", "body", "error"])
        self.assertEqual(it.closed, 1)

    def test_close_raising_is_an_error(self):
        it = Closing([b"a"], close_raises=True)

        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return it
        t = run(app, validated=False)
        self.assertEqual(t.kinds(), ["head", "body", "error"])
        self.assertIn("RuntimeError: close failed", t.error()[2])

    def test_iteration_and_close_both_failing_reports_both(self):
        it = Closing([b"a"], fail_at=0, close_raises=True)

        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return it
        text = run(app, validated=False).error()[2]
        self.assertIn("iteration failed", text)
        self.assertIn("close failed", text)


class CloseTest(unittest.TestCase):
    def app_returning(self, it):
        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return it
        return app

    def test_closed_after_normal_end(self):
        it = Closing([b"a", b"b"])
        t = run(self.app_returning(it), validated=False)
        self.assertEqual(it.closed, 1)
        self.assertEqual(t.events[-1], ("end", False))

    def test_closed_after_an_exception(self):
        it = Closing([b"a", b"b"], fail_at=0)
        run(self.app_returning(it), validated=False)
        self.assertEqual(it.closed, 1)

    def test_closed_after_a_violation(self):
        it = Closing([b"a", "str"])
        t = run(self.app_returning(it), validated=False)
        self.assertEqual(it.closed, 1)
        self.assertIn("yielded a str", t.error()[2])

    def test_closed_when_the_client_disconnects(self):
        it = Closing([b"a", b"b", b"c", b"d"])
        t = support.FakeTransport(cancel_after_bodies=2)
        run(self.app_returning(it), transport=t, validated=False)
        self.assertEqual(it.closed, 1)
        self.assertEqual(t.bodies(), [b"a", b"b"])
        self.assertEqual(t.events[-1], ("end", True))
        self.assertIsNone(t.error())

    def test_generator_is_closed_on_disconnect(self):
        log = []

        def app(environ, start_response):
            start_response("200 OK", TEXT)

            def body():
                try:
                    for i in range(100):
                        yield b"chunk"
                finally:
                    log.append("finally")
            return body()
        t = support.FakeTransport(cancel_after_bodies=1)
        run(app, transport=t, validated=False)
        self.assertEqual(log, ["finally"])
        self.assertEqual(t.events[-1], ("end", True))

    def test_write_after_disconnect_raises_oserror_in_the_app(self):
        raised = []

        def app(environ, start_response):
            write = start_response("200 OK", TEXT)
            write(b"one")
            try:
                write(b"two")
            except OSError as exc:
                raised.append(exc)
            return []
        t = support.FakeTransport(cancel_after_bodies=1)
        run(app, transport=t, validated=False)
        self.assertIsInstance(raised[0], ClientDisconnected)
        self.assertEqual(t.events[-1], ("end", True))

    def test_validator_sees_close(self):
        # wsgiref.validate asserts close() was called on its iterator wrapper.
        run(self.app_returning(iter([b"x"])))


class ViolationTest(unittest.TestCase):
    def violation(self, app, environ=None):
        t = run(app, environ, validated=False)
        error = t.error()
        self.assertIsNotNone(error, t.events)
        self.assertEqual(error[1], 500)
        self.assertTrue(error[2].startswith("WSGI protocol violation in GET /"), error[2])
        return t, error[2]

    def test_fixture_violations_app(self):
        for path in violations_app.ROUTES:
            with self.subTest(path):
                t, text = self.violation(violations_app.application, support.base_environ(path=path))
                self.assertTrue(text.startswith("WSGI protocol violation in GET %s: " % path), text)
                if path == "/yields-str-late":
                    self.assertEqual(t.kinds(), ["head", "body", "error"])
                else:
                    self.assertEqual(t.kinds(), ["error"])

    def test_messages_name_the_violation(self):
        cases = [
            ("/no-start-response", "start_response was not called"),
            ("/start-response-twice", "start_response was called a second time without exc_info"),
            ("/returns-str", "returned a str"),
            ("/returns-none", "returned None"),
            ("/yields-str", "yielded a str"),
            ("/status-crlf", "malformed status"),
            ("/header-value-crlf", "control"),
            ("/header-name-crlf", "malformed header name"),
            ("/hop-connection", "hop-by-hop header Connection"),
            ("/hop-transfer-encoding", "hop-by-hop header Transfer-Encoding"),
        ]
        for path, expected in cases:
            with self.subTest(path):
                _, text = self.violation(violations_app.application, support.base_environ(path=path))
                self.assertIn(expected, text.splitlines()[0])

    def test_returning_bytes_directly(self):
        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return b"body"
        _, text = self.violation(app)
        self.assertIn("returned a bytes", text)

    def test_returning_a_non_iterable(self):
        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return 42
        _, text = self.violation(app)
        self.assertIn("not iterable", text)

    def test_list_with_a_str(self):
        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return [b"ok", "no"]
        t, text = self.violation(app)
        self.assertEqual(t.kinds(), ["error"])

    def test_bad_statuses(self):
        for status in (200, "2000 OK", "20 OK", "099 Low", "200OK", "abc OK", "200 O\x00K", "200 \u0100"):
            with self.subTest(status=status):
                def app(environ, start_response):
                    start_response(status, TEXT)
                    return [b""]
                self.violation(app)

    def test_bad_headers(self):
        cases = [
            ("Content-Type", "text/plain"),                 # a tuple, not a list
            [["Content-Type", "text/plain"]],               # items must be tuples
            [("Content-Type",)],
            [(b"Content-Type", "text/plain")],
            [("Content-Type", b"text/plain")],
            [("Bad Name", "x")],
            [("", "x")],
            [("X-A", "a\rb")],
            [("X-A", "a\x7fb")],
            [("X-A", "caf\u0113")],                          # not latin-1
            [("Keep-Alive", "1")], [("TE", "trailers")], [("Trailer", "x")],
            [("Proxy-Authenticate", "x")], [("Upgrade", "h2c")],
            [("Content-Length", "12a")], [("Content-Length", "\u00b2")], [("Content-Length", "-1")],
            [("Content-Length", "1"), ("Content-Length", "2")],
        ]
        for headers in cases:
            with self.subTest(headers=headers):
                def app(environ, start_response):
                    start_response("200 OK", headers)
                    return [b""]
                self.violation(app)

    def test_checks_remembered_from_earlier_responses_let_nothing_bad_through(self):
        # Statuses and header items are checked once and remembered. What is
        # remembered must answer exactly as the full check would.
        Point = collections.namedtuple("Point", "name value")
        first = [("X-Seen", "1"), ("Content-Length", "1")]
        def app(environ, start_response):
            start_response("200 OK", first)
            return [b"x"]
        self.assertIsNone(run(app, validated=False).error())
        for headers in (
            [Point("X-Seen", "1")],                # equal to a remembered tuple, but not a tuple
            [("X-Seen", ["1"])],                   # unhashable: a violation, not a TypeError
            [("Content-Length", "1"), ("Content-Length", "2")],  # remembered items, still counted
        ):
            with self.subTest(headers=headers):
                def bad(environ, start_response):
                    start_response("200 OK", headers)
                    return [b"x"]
                self.violation(bad)
        for status in ("200 OK", "200 OK"):
            def again(environ, start_response):
                start_response(status, first)
                return [b"x"]
            t = run(again, validated=False)
            self.assertEqual(t.head()[1:3], (200, "OK"))
        self.violation(lambda environ, start_response: start_response(b"200 OK", first) and [b""])

    def test_repeated_identical_content_length_is_fine(self):
        def app(environ, start_response):
            start_response("200 OK", TEXT + [("Content-Length", "1"), ("Content-Length", "1")])
            return [b"x"]
        t = run(app, validated=False)
        self.assertEqual(t.events[-1], ("end", False))

    def test_tab_and_latin1_in_values_are_fine(self):
        def app(environ, start_response):
            start_response("200 OK", TEXT + [("X-A", "a\tb caf\u00e9")])
            return [b""]
        t = run(app, validated=False)
        self.assertIsNone(t.error())

    def test_write_with_str(self):
        def app(environ, start_response):
            write = start_response("200 OK", TEXT)
            write("text")
            return []
        _, text = self.violation(app)
        self.assertIn("write() was given a str", text)
        self.assertIn("Traceback", text)  # raised inside the app: show where

    def test_swallowed_violation_is_still_reported(self):
        t, text = self.violation(swallows_its_violation)
        self.assertEqual(t.kinds(), ["error"])
        self.assertIn("malformed status", text)

    def test_headers_are_copied_at_start_response(self):
        headers = list(TEXT)

        def app(environ, start_response):
            start_response("200 OK", headers)
            headers.append(("X-Injected", "a\r\nb"))
            return [b"x"]
        t = run(app, validated=False)
        self.assertNotIn(("X-Injected", "a\r\nb"), t.head()[3])


class FileWrapperTest(unittest.TestCase):
    def setUp(self):
        fd, self.path = tempfile.mkstemp()
        os.write(fd, bytes(range(256)) * 40)  # 10240 bytes
        os.close(fd)
        self.addCleanup(os.unlink, self.path)

    def app(self, opener, headers=(), seek=None, blksize=8192):
        def app(environ, start_response):
            f = opener()
            if seek is not None:
                f.seek(seek)
            start_response("200 OK", TEXT + list(headers))
            return environ["wsgi.file_wrapper"](f, blksize)
        return app

    def test_regular_file_becomes_a_file_frame_to_eof(self):
        t = run(self.app(lambda: open(self.path, "rb")), validated=False)
        self.assertEqual(t.kinds(), ["head", "file", "end"])
        self.assertEqual(t.events[1], ("file", os.fsencode(os.path.abspath(self.path)), 0, None))
        self.assertEqual(t.head()[3], TEXT)

    def test_offset_is_where_the_app_left_the_file(self):
        t = run(self.app(lambda: open(self.path, "rb"), seek=1000), validated=False)
        self.assertEqual(t.events[1][2:], (1000, None))

    def test_length_is_bounded_by_content_length(self):
        t = run(self.app(lambda: open(self.path, "rb"), [("Content-Length", "100")], seek=10), validated=False)
        self.assertEqual(t.events[1][2:], (10, 100))
        self.assertEqual(t.events[-1], ("end", False))

    def test_content_length_beyond_the_file_aborts(self):
        with support.CapturedStderr():
            t = run(self.app(lambda: open(self.path, "rb"), [("Content-Length", "20000")]), validated=False)
        self.assertEqual(t.events[1][2:], (0, 10240))
        self.assertEqual(t.events[-1], ("end", True))

    def test_relative_name_is_sent_absolute(self):
        cwd = os.getcwd()
        os.chdir(os.path.dirname(self.path))
        try:
            t = run(self.app(lambda: open(os.path.basename(self.path), "rb")), validated=False)
        finally:
            os.chdir(cwd)
        self.assertEqual(t.events[1][1], os.fsencode(os.path.abspath(self.path)))

    def test_file_is_closed(self):
        opened = []

        def opener():
            opened.append(open(self.path, "rb"))
            return opened[-1]
        run(self.app(opener), validated=False)
        self.assertTrue(opened[0].closed)

    def test_named_temporary_file_is_sent_from_the_worker(self):
        # NamedTemporaryFile deletes its file in close(), which PEP 3333 has
        # run before the front could open the path: the worker sends the
        # bytes instead, read from its own descriptor of the file.
        data = os.urandom(300000)
        made = []

        def opener():
            f = tempfile.NamedTemporaryFile(dir=os.path.dirname(self.path))
            f.write(data)
            f.flush()
            f.seek(0)
            made.append(f.name)
            return f
        t = run(self.app(opener), validated=False)
        self.assertFalse(os.path.exists(made[0]), "close() ran and deleted the file")
        self.assertNotIn("file", t.kinds())
        self.assertEqual(t.body(), data)
        self.assertEqual(t.events[-1], ("end", False))

    def test_named_temporary_file_honours_offset_and_content_length(self):
        def opener():
            f = tempfile.NamedTemporaryFile(dir=os.path.dirname(self.path))
            f.write(bytes(range(256)) * 4)
            f.flush()
            return f
        t = run(self.app(opener, [("Content-Length", "300")], seek=100), validated=False)
        self.assertNotIn("file", t.kinds())
        self.assertEqual(t.body(), (bytes(range(256)) * 4)[100:400])
        self.assertEqual(t.events[-1], ("end", False))

    def test_named_temporary_file_for_head_sends_no_bytes(self):
        def opener():
            f = tempfile.NamedTemporaryFile(dir=os.path.dirname(self.path))
            f.write(b"x" * 1000)
            f.flush()
            f.seek(0)
            return f
        t = run(self.app(opener), support.base_environ(method="HEAD"), validated=False)
        self.assertEqual(t.kinds(), ["head", "end"])

    def test_file_replaced_by_close_is_sent_from_the_worker(self):
        # close() puts another file at the path: the front must not send that one.
        class Replacing(io.FileIO):
            def close(inner):
                super().close()
                with open(self.path + ".new", "wb") as other:
                    other.write(b"not the file the app returned")
                os.replace(self.path + ".new", self.path)
        with open(self.path, "rb") as f:
            original = f.read()
        t = run(self.app(lambda: Replacing(self.path, "rb")), validated=False)
        self.assertNotIn("file", t.kinds())
        self.assertEqual(t.body(), original)

    def test_close_failure_sends_no_file(self):
        class FailingClose(io.FileIO):
            def close(inner):
                super().close()
                raise RuntimeError("close failed")
        t = run(self.app(lambda: FailingClose(self.path, "rb")), validated=False)
        self.assertEqual(t.kinds(), ["head", "error"])
        self.assertIn("close failed", t.error()[2])

    def test_bytesio_is_iterated_in_blocks(self):
        data = os.urandom(10000)
        t = run(self.app(lambda: io.BytesIO(data), blksize=4096), validated=False)
        self.assertEqual([len(b) for b in t.bodies()], [4096, 4096, 1808])
        self.assertEqual(t.body(), data)

    def test_renamed_file_is_iterated(self):
        def opener():
            f = open(self.path, "rb")
            os.rename(self.path, self.path + ".moved")
            self.addCleanup(os.rename, self.path + ".moved", self.path)
            return f
        t = run(self.app(opener), validated=False)
        self.assertNotIn("file", t.kinds())
        self.assertEqual(len(t.body()), 10240)

    def test_pipe_is_iterated(self):
        r, w = os.pipe()
        os.write(w, b"from a pipe")
        os.close(w)
        t = run(self.app(lambda: os.fdopen(r, "rb")), validated=False)
        self.assertEqual(t.body(), b"from a pipe")

    def test_text_file_is_iterated_and_is_a_violation(self):
        t = run(self.app(lambda: open(self.path, "r", encoding="latin-1")), validated=False)
        self.assertIn("yielded a str", t.error()[2])

    def test_inside_validator_it_is_iterated(self):
        t = run(self.app(lambda: open(self.path, "rb")))
        self.assertEqual(len(t.body()), 10240)

    def test_fixture_file_wrapper_app(self):
        import file_wrapper_app
        environ = support.base_environ(path="/file", query="path=%s&offset=5&length=10" % self.path)
        t = run(file_wrapper_app.application, environ, validated=False)
        self.assertEqual(t.events[1][2:], (5, 10))


class InputThroughExecutorTest(unittest.TestCase):
    def test_validated_app_reads_the_body(self):
        def app(environ, start_response):
            stream = environ["wsgi.input"]
            first = stream.readline()
            rest = stream.read(100)
            start_response("200 OK", TEXT)
            return [first, b"|", rest]
        t = support.FakeTransport(chunks=[b"line one\nli", b"ne two"])
        self.assertEqual(run(app, transport=t).body(), b"line one\n|line two")


class DebugPageTest(unittest.TestCase):
    """--debug: an error before the head went out becomes the HTML page; the
    log text the ERROR frame would have carried goes to stderr instead."""

    HTML = ("Content-Type", "text/html; charset=utf-8")

    @staticmethod
    def raising_app(environ, start_response):
        secret = "<script>alert(1)</script>"
        raise RuntimeError("boom <%s>" % len(secret))

    def run_captured(self, app, environ=None, debug=True, **kwargs):
        environ = support.base_environ(path="/p<x>", query="a=1") if environ is None else environ
        with support.CapturedStderr() as err:
            t = run(app, environ, validated=False, debug=debug, **kwargs)
        return t, err.getvalue()

    def assert_page(self, t):
        self.assertEqual(t.kinds(), ["head", "body", "end"], t.events)
        _, code, reason, headers = t.head()
        self.assertEqual((code, reason), (500, "Internal Server Error"))
        self.assertEqual(headers, [self.HTML, ("Content-Length", str(len(t.body())))])
        self.assertEqual(t.events[-1], ("end", False))
        return t.body().decode("utf-8")

    def test_page_frames_start_at_the_application_not_the_runtime(self):
        t, _ = self.run_captured(self.raising_app)
        page = self.assert_page(t)
        files = re.findall(r'<code class="file">([^<]*)</code>', page)
        self.assertTrue(files, page)
        self.assertTrue(files[0].endswith("test_executor.py"), files)
        self.assertFalse(any(name.endswith("executor.py") and "test_" not in name for name in files), files)

    def test_debug_on_sends_the_page_and_logs_the_error_text_to_stderr(self):
        t, logged = self.run_captured(self.raising_app)
        page = self.assert_page(t)
        self.assertIn("<h1>RuntimeError</h1>", page)
        self.assertIn("boom &lt;25&gt;", page)
        self.assertIn("<code>GET /p&lt;x&gt;?a=1</code>", page)
        self.assertIn("<th>secret</th><td>&#x27;&lt;script&gt;alert(1)&lt;/script&gt;&#x27;</td>", page)
        self.assertNotIn("<script", page)
        self.assertIsNone(t.error())
        # The same text, to the character, that ERROR carries without --debug.
        plain, quiet = self.run_captured(self.raising_app, debug=False)
        self.assertEqual(quiet, "")
        self.assertEqual(logged, plain.error()[2] + "\n")
        self.assertTrue(logged.startswith("Error handling request GET /p<x>?a=1\nTraceback (most recent call last):"))
        self.assertIn("RuntimeError: boom <25>", logged)

    def test_debug_off_is_the_error_frame_as_before(self):
        t, logged = self.run_captured(self.raising_app, debug=False)
        self.assertEqual(t.kinds(), ["error"])
        self.assertEqual(t.error()[1], 500)
        self.assertTrue(t.error()[2].startswith("Error handling request GET /p<x>?a=1\n"))
        self.assertEqual(logged, "")

    def test_head_already_sent_is_the_error_frame_as_before(self):
        it = Closing([b"a", b"b"], fail_at=1)

        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return it
        t, logged = self.run_captured(app)
        self.assertEqual(t.kinds(), ["head", "body", "error"])
        self.assertEqual(t.head()[1], 200)
        self.assertIn("RuntimeError: iteration failed", t.error()[2])
        self.assertEqual(logged, "")  # logged once, by the front, from ERROR

    def test_raise_after_start_response_before_the_body_gets_the_page(self):
        def app(environ, start_response):
            start_response("200 OK", TEXT)
            raise RuntimeError("late")
        t, logged = self.run_captured(app)
        self.assertIn("late", self.assert_page(t))
        self.assertIn("RuntimeError: late", logged)

    def test_close_failing_as_well_is_on_the_page_and_in_the_log(self):
        it = Closing([b"a"], fail_at=0, close_raises=True)

        def app(environ, start_response):
            start_response("200 OK", TEXT)
            return it
        t, logged = self.run_captured(app)
        page = self.assert_page(t)
        self.assertIn("close() of the response iterable failed as well", page)
        self.assertIn("iteration failed", logged)
        self.assertIn("close failed", logged)

    def test_violation_gets_the_page(self):
        t, logged = self.run_captured(violations_app.application, support.base_environ(path="/no-start-response"))
        page = self.assert_page(t)
        self.assertIn("WSGIViolation", page)
        self.assertIn("start_response was not called", page)
        self.assertTrue(logged.startswith("WSGI protocol violation in GET /no-start-response: "), logged)

    def test_swallowed_violation_gets_the_page(self):
        t, logged = self.run_captured(swallows_its_violation)
        page = self.assert_page(t)
        self.assertIn("malformed status", page)
        self.assertIn("malformed status", logged)

    def test_head_request_gets_the_length_but_no_body(self):
        t, _ = self.run_captured(self.raising_app, support.base_environ(method="HEAD"))
        self.assertEqual(t.kinds(), ["head", "end"])
        length = int(dict(t.head()[3])["Content-Length"])
        self.assertGreater(length, 0)

    def test_a_page_that_fails_to_render_falls_back_to_the_error_frame(self):
        executor = Executor(self.raising_app, debug=True)

        def broken(*args):
            raise TypeError("renderer bug")
        executor._render_page = broken
        t = support.FakeTransport()
        with support.CapturedStderr() as err:
            executor.handle(support.base_environ(), t)
        self.assertEqual(t.kinds(), ["error"])
        self.assertIn("RuntimeError: boom", t.error()[2])
        self.assertIn("renderer bug", err.getvalue())

    def test_client_gone_while_the_page_goes_out(self):
        t = support.FakeTransport(cancel_after_bodies=0)

        def app(environ, start_response):
            raise RuntimeError("boom")
        # The client leaves between the error and the page: the stream ends aborted.
        original = t.send_head

        def send_head(*args):
            t.cancelled = True
            original(*args)
        t.send_head = send_head
        _, logged = self.run_captured(app, transport=t)
        self.assertEqual(t.kinds(), ["end"])
        self.assertEqual(t.events[-1], ("end", True))
        self.assertIn("RuntimeError: boom", logged)


if __name__ == "__main__":
    unittest.main()
