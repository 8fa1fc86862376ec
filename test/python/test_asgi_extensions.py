"""The pathsend, trailers and early hint extensions through run_http."""
import os
import tempfile
import unittest

from test_asgi_fakes import START, ASGITestCase, FakeTransport, make_head, messages_app

PATHSEND = "http.response.pathsend"
TRAILERS = "http.response.trailers"
EARLY_HINT = "http.response.early_hint"


class PathsendTest(ASGITestCase):
    def setUp(self):
        handle, self.path = tempfile.mkstemp()
        os.write(handle, b"0123456789")
        os.close(handle)
        self.addCleanup(os.unlink, self.path)

    def start(self, *headers, status=200):
        return {"type": "http.response.start", "status": status, "headers": list(headers)}

    async def test_the_front_sends_the_file(self):
        transport = await self.run_app(messages_app(self.start((b"content-type", b"text/plain")),
                                                    {"type": PATHSEND, "path": self.path}))
        self.assertEqual(transport.events, [
            ("head", 200, [(b"content-type", b"text/plain")]),
            ("file", os.fsencode(self.path), 0, None),
            ("end", False),
        ])

    async def test_with_content_length(self):
        transport = await self.run_app(messages_app(self.start((b"content-length", b"10")),
                                                    {"type": PATHSEND, "path": self.path}))
        self.assertEqual(transport.events[1], ("file", os.fsencode(self.path), 0, 10))
        self.assertEqual(transport.last(), ("end", False))

    async def test_file_longer_than_content_length_is_cut_and_aborted(self):
        transport = await self.run_app(messages_app(self.start((b"content-length", b"4")),
                                                    {"type": PATHSEND, "path": self.path}))
        self.assertEqual(transport.events[1], ("file", os.fsencode(self.path), 0, 4))
        self.assertEqual(transport.last(), ("end", True))
        self.assertEqual(self.logs[0][0], "warning")

    async def test_file_shorter_than_content_length_is_aborted(self):
        transport = await self.run_app(messages_app(self.start((b"content-length", b"20")),
                                                    {"type": PATHSEND, "path": self.path}))
        self.assertEqual(transport.events[1], ("file", os.fsencode(self.path), 0, 10))
        self.assertEqual(transport.last(), ("end", True))

    async def test_head_request_sends_no_file(self):
        transport = await self.run_app(messages_app(self.start((b"content-length", b"10")),
                                                    {"type": PATHSEND, "path": self.path}),
                                       head=make_head(method="HEAD"))
        self.assertEqual(transport.kinds(), ["head", "end"])
        self.assertEqual(transport.last(), ("end", False))

    async def test_relative_path_is_a_violation(self):
        transport = await self.run_app(messages_app(self.start(), {"type": PATHSEND, "path": "rel/file"}))
        self.assert_failed(transport, "ASGI protocol violation in GET /", "absolute path")

    async def test_bytes_path_is_a_violation(self):
        transport = await self.run_app(messages_app(self.start(), {"type": PATHSEND, "path": os.fsencode(self.path)}))
        self.assert_failed(transport, "absolute path as a str")

    async def test_missing_file_is_a_500(self):
        transport = await self.run_app(messages_app(self.start(), {"type": PATHSEND, "path": self.path + ".gone"}))
        self.assert_failed(transport, "cannot be sent")

    async def test_directory_is_a_500(self):
        transport = await self.run_app(messages_app(self.start(), {"type": PATHSEND,
                                                                   "path": os.path.dirname(self.path)}))
        self.assert_failed(transport, "not a regular file")

    async def test_before_start_is_a_violation(self):
        transport = await self.run_app(messages_app({"type": PATHSEND, "path": self.path}))
        self.assert_failed(transport, "pathsend before http.response.start")

    async def test_cannot_follow_a_body(self):
        transport = await self.run_app(messages_app(self.start(),
                                                    {"type": "http.response.body", "body": b"x", "more_body": True},
                                                    {"type": PATHSEND, "path": self.path}))
        self.assert_aborted(transport, "cannot be mixed")

    async def test_body_cannot_follow_it(self):
        transport = await self.run_app(messages_app(self.start(), {"type": PATHSEND, "path": self.path},
                                                    {"type": "http.response.body", "body": b"x"}))
        # The pathsend completed the response: what follows is ignored.
        self.assertEqual(transport.kinds(), ["head", "file", "end"])

    async def test_not_offered_is_an_unknown_message(self):
        transport = await self.run_app(messages_app(self.start(), {"type": PATHSEND, "path": self.path}),
                                       extensions=())
        self.assert_failed(transport, "unknown message type 'http.response.pathsend'")


class TrailersTest(ASGITestCase):
    START_T = {"type": "http.response.start", "status": 200, "headers": [(b"trailer", b"x-checksum")],
               "trailers": True}

    async def test_trailers_after_the_body(self):
        transport = await self.run_app(messages_app(
            self.START_T,
            {"type": "http.response.body", "body": b"data"},
            {"type": TRAILERS, "headers": [(b"x-checksum", b"abc")]}))
        self.assertEqual(transport.kinds(), ["head", "body", "trailers", "end"])
        self.assertEqual(transport.head(), ("head", 200, [(b"trailer", b"x-checksum")]))
        self.assertEqual(transport.events[2], ("trailers", [(b"x-checksum", b"abc")]))
        self.assertEqual(transport.last(), ("end", False))

    async def test_the_response_waits_for_the_trailers(self):
        seen = []

        async def app(scope, receive, send):
            await send(self.START_T)
            await send({"type": "http.response.body", "body": b"data"})
            seen.append(transport.kinds())
            await send({"type": TRAILERS, "headers": [(b"grpc-status", b"0")]})
        transport = FakeTransport()
        await self.run_app(app, transport=transport)
        self.assertEqual(seen, [["head", "body"]])

    async def test_more_trailers_are_gathered(self):
        transport = await self.run_app(messages_app(
            self.START_T, {"type": "http.response.body", "body": b"data"},
            {"type": TRAILERS, "headers": [(b"a", b"1")], "more_trailers": True},
            {"type": TRAILERS, "headers": [(b"b", b"2")]}))
        self.assertEqual(transport.events[2], ("trailers", [(b"a", b"1"), (b"b", b"2")]))

    async def test_head_request_sends_no_trailers(self):
        transport = await self.run_app(messages_app(
            self.START_T, {"type": "http.response.body", "body": b"data"},
            {"type": TRAILERS, "headers": [(b"a", b"1")]}), head=make_head(method="HEAD"))
        self.assertEqual(transport.kinds(), ["head", "end"])

    async def test_trailers_not_announced(self):
        transport = await self.run_app(messages_app(
            START, {"type": "http.response.body", "body": b"x", "more_body": True},
            {"type": TRAILERS, "headers": []}))
        self.assert_aborted(transport, "without trailers=True")

    async def test_trailers_before_the_final_body(self):
        transport = await self.run_app(messages_app(
            self.START_T, {"type": "http.response.body", "body": b"x", "more_body": True},
            {"type": TRAILERS, "headers": []}))
        self.assert_aborted(transport, "before the final http.response.body")

    async def test_announced_trailers_that_never_come(self):
        transport = await self.run_app(messages_app(self.START_T, {"type": "http.response.body", "body": b"x"}))
        self.assert_aborted(transport, "returned without completing the response", "trailers")

    async def test_bad_trailer_fields(self):
        for fields, why in (([(b"content-length", b"1")], "framing field"),
                            ([(b"transfer-encoding", b"chunked")], "framing field"),
                            ([(b"connection", b"close")], "hop-by-hop"),
                            ([(b"trailer", b"x-a")], "cannot hold a Trailer field"),
                            ([("x-a", "1")], "must be bytes"),
                            ([(b"x-a", b"1\r\nx-b: 2")], "control character")):
            with self.subTest(fields=fields):
                transport = await self.run_app(messages_app(
                    self.START_T, {"type": "http.response.body", "body": b"x"},
                    {"type": TRAILERS, "headers": fields}))
                self.assert_aborted(transport, why)

    async def test_trailer_field_without_trailers_true(self):
        transport = await self.run_app(messages_app(
            {"type": "http.response.start", "status": 200, "headers": [(b"trailer", b"x-a")]},
            {"type": "http.response.body"}))
        self.assert_failed(transport, "announces trailers")

    async def test_not_offered(self):
        transport = await self.run_app(messages_app(self.START_T), extensions=())
        self.assert_failed(transport, "trailers", "not offered")


class EarlyHintTest(ASGITestCase):
    HINT = {"type": EARLY_HINT, "links": [b"</style.css>; rel=preload; as=style"]}

    async def test_before_start(self):
        transport = await self.run_app(messages_app(self.HINT, START, {"type": "http.response.body"}))
        self.assertEqual(transport.events[0], ("hints", [(b"link", b"</style.css>; rel=preload; as=style")]))
        self.assertEqual(transport.kinds(), ["hints", "head", "end"])

    async def test_after_start_before_the_head_went_out(self):
        transport = await self.run_app(messages_app(START, self.HINT, self.HINT, {"type": "http.response.body"}))
        self.assertEqual(transport.kinds(), ["hints", "hints", "head", "end"])

    async def test_ignored_once_the_head_went_out(self):
        transport = await self.run_app(messages_app(
            START, {"type": "http.response.body", "body": b"x", "more_body": True}, self.HINT,
            {"type": "http.response.body"}))
        self.assertEqual(transport.kinds(), ["head", "body", "end"])
        self.assertEqual(transport.last(), ("end", False))

    async def test_ignored_for_http_1_0(self):
        transport = await self.run_app(messages_app(self.HINT, START, {"type": "http.response.body"}),
                                       head=make_head(http_version="1.0"))
        self.assertEqual(transport.kinds(), ["head", "end"])

    async def test_bad_links(self):
        for links, why in (([" </a>"], "must be bytes"), (b"</a>", "iterable of bytes"),
                           (None, "iterable of bytes"), ([b"</a>\r\nSet-Cookie: x=1"], "control character")):
            with self.subTest(links=links):
                transport = await self.run_app(messages_app({"type": EARLY_HINT, "links": links}))
                self.assert_failed(transport, why)

    async def test_not_offered(self):
        transport = await self.run_app(messages_app(self.HINT), extensions=())
        self.assert_failed(transport, "unknown message type 'http.response.early_hint'")


if __name__ == "__main__":
    unittest.main()
