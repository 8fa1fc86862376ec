"""A broken ASGI application never gets a malformed response out: a 500 while
nothing was sent, an aborted response after that; the log names the violation."""
import unittest

from test_asgi_fakes import START, ASGITestCase, FakeTransport, make_head, messages_app

from portico.asgi.errors import ASGIViolation


def start(status=200, headers=()):
    return {"type": "http.response.start", "status": status, "headers": list(headers)}


BODY = {"type": "http.response.body", "body": b"x"}
STREAM = {"type": "http.response.body", "body": b"x", "more_body": True}


class BeforeAnythingWasSentTest(ASGITestCase):
    """The client gets a 500 (fail) and nothing else."""

    async def broken(self, *messages, fragments=()):
        transport = await self.run_app(messages_app(*messages))
        return self.assert_failed(transport, "ASGI protocol violation in GET /", *fragments)

    async def test_body_before_start(self):
        await self.broken(BODY, fragments=["http.response.body before http.response.start"])

    async def test_start_twice(self):
        await self.broken(START, START, BODY, fragments=["http.response.start was sent twice"])

    async def test_unknown_message_type(self):
        await self.broken({"type": "http.response.bogus"}, fragments=["unknown message type 'http.response.bogus'"])
        await self.broken({"type": "websocket.accept"}, fragments=["unknown message type"])

    async def test_message_not_a_dict(self):
        await self.broken(None, fragments=["send() was given a NoneType"])
        await self.broken({"status": 200}, fragments=["send() was given a dict"])

    async def test_non_bytes_body(self):
        for body in ("text", bytearray(b"x"), memoryview(b"x"), 42):
            with self.subTest(body=body):
                await self.broken(START, {"type": "http.response.body", "body": body},
                                  fragments=["the response body must be bytes, got %s" % type(body).__name__])

    async def test_str_header_name_or_value(self):
        await self.broken(start(headers=[("content-type", b"text/plain")]), BODY, fragments=["must be bytes"])
        await self.broken(start(headers=[(b"content-type", "text/plain")]), BODY, fragments=["must be bytes"])

    async def test_control_characters_in_a_header_value(self):
        for value in (b"a\r\nSet-Cookie: x=1", b"a\nb", b"a\rb", b"a\x00b", b"a\x7fb"):
            with self.subTest(value=value):
                await self.broken(start(headers=[(b"x-a", value)]), BODY, fragments=["control character"])

    async def test_malformed_header_names(self):
        for name in (b"x a", b"x:a", b"x\r\na", b"", b":status", b"caf\xe9"):
            with self.subTest(name=name):
                await self.broken(start(headers=[(name, b"1")]), BODY, fragments=["malformed header name"])

    async def test_hop_by_hop_headers(self):
        for name in (b"connection", b"Keep-Alive", b"upgrade", b"te", b"trailer", b"proxy-authenticate",
                     b"proxy-authorization"):
            with self.subTest(name=name):
                await self.broken(start(headers=[(name, b"x")]), BODY,
                                  fragments=["hop-by-hop" if name != b"trailer" else "announces trailers"])

    async def test_header_items_that_are_not_pairs(self):
        for headers in ([(b"a",)], [(b"a", b"b", b"c")], [b"ab"], {b"a": b"b"}, 42):
            with self.subTest(headers=headers):
                message = {"type": "http.response.start", "status": 200, "headers": headers}
                await self.broken(message, BODY, fragments=["header"])

    async def test_bad_content_length(self):
        for values in ([b"abc"], [b"-1"], [b"1", b"2"], [b"\xb2"]):
            with self.subTest(values=values):
                await self.broken(start(headers=[(b"content-length", v) for v in values]), BODY,
                                  fragments=["bad Content-Length"])

    async def test_invalid_status(self):
        for status, why in (("200", "must be an int, got str"), (None, "got NoneType"),
                            (True, "got bool"), (200.0, "got float"), (99, "invalid status 99"),
                            (1000, "invalid status 1000"), (101, "informational"), (103, "early_hint")):
            with self.subTest(status=status):
                await self.broken({"type": "http.response.start", "status": status}, BODY, fragments=[why])

    async def test_returned_without_start(self):
        text = await self.broken(fragments=["returned without completing the response",
                                            "no http.response.start"])
        self.assertNotIn("Traceback", text)

    async def test_returned_after_start_only(self):
        # The head waits for the first body message, so there is still room for a 500.
        await self.broken(START, fragments=["no http.response.body with more_body=False came"])

    async def test_raised_before_start(self):
        async def app(scope, receive, send):
            raise KeyError("boom")
        transport = await self.run_app(app, head=make_head(path=b"/items", query_string=b"q=1"))
        text = self.assert_failed(transport, "Error handling request GET /items?q=1", "Traceback", "KeyError: 'boom'")
        self.assertNotIn("protocol violation", text)

    async def test_raised_after_start_before_any_body(self):
        async def app(scope, receive, send):
            await send(START)
            raise ValueError("late")
        transport = await self.run_app(app)
        self.assert_failed(transport, "Error handling request GET /", "ValueError: late")

    async def test_not_a_coroutine_function(self):
        def app(scope, receive, send):
            return None
        transport = await self.run_app(app)
        self.assert_failed(transport, "Error handling request GET /", "TypeError")

    async def test_violation_caught_by_the_app_still_fails(self):
        seen = []

        async def app(scope, receive, send):
            try:
                await send(start(headers=[(b"connection", b"close")]))
            except ASGIViolation as exc:
                seen.append(exc.code)
            try:
                await send(START)  # a clean retry changes nothing
            except ASGIViolation as exc:
                seen.append(str(exc))
        transport = await self.run_app(app)
        self.assertEqual(seen, ["ASGI_PROTOCOL_VIOLATION", "hop-by-hop header connection is the server's to set "
                                                           "(RFC 9110 7.6.1)"])
        text = self.assert_failed(transport, "hop-by-hop header connection")
        self.assertNotIn("Traceback", text)

    async def test_violation_let_through_shows_where(self):
        async def app(scope, receive, send):
            await send(start(headers=[(b"x-a", b"1\n")]))
        transport = await self.run_app(app)
        text = self.assert_failed(transport, "ASGI protocol violation in GET /: header x-a has a value",
                                  "Traceback", "in app")

    async def test_other_error_after_a_caught_violation_names_both(self):
        async def app(scope, receive, send):
            try:
                await send(BODY)
            except ASGIViolation:
                raise RuntimeError("gave up")
        transport = await self.run_app(app)
        self.assert_failed(transport, "ASGI protocol violation in GET /: http.response.body before",
                           "RuntimeError: gave up")


class AfterTheHeadWentOutTest(ASGITestCase):
    """The response is aborted (no last chunk) and the log names why."""

    async def test_start_twice(self):
        transport = await self.run_app(messages_app(START, STREAM, START))
        self.assertEqual(transport.kinds(), ["head", "body", "end"])
        self.assert_aborted(transport, "ASGI protocol violation in GET /: http.response.start was sent twice")

    async def test_non_bytes_body(self):
        transport = await self.run_app(messages_app(START, STREAM, {"type": "http.response.body", "body": "s"}))
        self.assert_aborted(transport, "must be bytes, got str")

    async def test_unknown_message_type(self):
        transport = await self.run_app(messages_app(START, STREAM, {"type": "http.response.push", "path": "/"}))
        self.assert_aborted(transport, "unknown message type 'http.response.push'")

    async def test_returned_mid_stream(self):
        transport = await self.run_app(messages_app(START, STREAM))
        self.assertEqual(transport.kinds(), ["head", "body", "end"])
        self.assert_aborted(transport, "returned without completing the response")

    async def test_raised_mid_stream(self):
        async def app(scope, receive, send):
            await send(START)
            await send(STREAM)
            raise RuntimeError("db went away")
        transport = await self.run_app(app)
        self.assert_aborted(transport, "Error handling request GET /", "RuntimeError: db went away")

    async def test_raised_after_an_empty_first_body(self):
        async def app(scope, receive, send):
            await send(START)
            await send({"type": "http.response.body", "body": b"", "more_body": True})
            raise RuntimeError("x")
        transport = await self.run_app(app)
        self.assertEqual(transport.kinds(), ["head", "end"])
        self.assert_aborted(transport, "RuntimeError: x")

    async def test_send_after_an_abort_raises(self):
        # An application task that outlives its call finds the response ended.
        leftover = []

        async def app(scope, receive, send):
            leftover.append(send)
            await send(START)
            await send(STREAM)
        transport = await self.run_app(app)
        with self.assertRaises(OSError):
            await leftover[0](STREAM)
        self.assert_one_terminal(transport)

    async def test_violations_are_never_sent(self):
        transport = FakeTransport()
        await self.run_app(messages_app(START, STREAM, {"type": "http.response.body", "body": 1}, BODY),
                           transport=transport)
        self.assertEqual(transport.bodies(), [b"x"])


if __name__ == "__main__":
    unittest.main()
