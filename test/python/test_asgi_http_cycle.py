"""run_http / HTTPCycle: receive and send for one request, the response's
way to the transport, client disconnects and cancellation (www spec 2.4)."""
import asyncio
import unittest

from test_asgi_fakes import START, ASGITestCase, FakeTransport, make_head, messages_app, simple_app

from portico.asgi.errors import ClientDisconnected
from portico.asgi.http_cycle import run_http


class ResponseTest(ASGITestCase):
    async def test_simple_response(self):
        transport = await self.run_app(simple_app(headers=[(b"content-type", b"text/plain"),
                                                           (b"content-length", b"5")]))
        self.assertEqual(transport.events, [
            ("head", 200, [(b"content-type", b"text/plain"), (b"content-length", b"5")]),
            ("body", b"hello", False),
            ("end", False),
        ])
        self.assertEqual(self.logs, [])

    async def test_headers_as_lists_and_any_name_case(self):
        # Django sends "Content-Type" as given; names pass through unchanged.
        transport = await self.run_app(simple_app(headers=[[b"Content-Type", b"text/html"]]))
        self.assertEqual(transport.head(), ("head", 200, [(b"Content-Type", b"text/html")]))

    async def test_missing_headers_and_body_default_to_empty(self):
        transport = await self.run_app(messages_app({"type": "http.response.start", "status": 204},
                                                    {"type": "http.response.body"}))
        self.assertEqual(transport.events, [("head", 204, []), ("end", False)])

    async def test_streaming_passes_more_body_and_sends_no_empty_chunks(self):
        transport = await self.run_app(messages_app(
            START,
            {"type": "http.response.body", "body": b"a", "more_body": True},
            {"type": "http.response.body", "body": b"", "more_body": True},
            {"type": "http.response.body", "body": b"b", "more_body": True},
            {"type": "http.response.body", "body": b""},
        ))
        self.assertEqual(transport.kinds(), ["head", "body", "body", "end"])
        self.assertEqual([e[1:] for e in transport.events if e[0] == "body"], [(b"a", True), (b"b", True)])
        self.assertEqual(transport.last(), ("end", False))

    async def test_head_waits_for_the_first_body_message_even_an_empty_one(self):
        seen = []

        async def app(scope, receive, send):
            await send(START)
            seen.append(list(transport.kinds()))
            await send({"type": "http.response.body", "body": b"", "more_body": True})
            seen.append(list(transport.kinds()))
            await send({"type": "http.response.body", "body": b"x"})
        transport = FakeTransport()
        await self.run_app(app, transport=transport)
        self.assertEqual(seen, [[], ["head"]])

    async def test_no_content_length_passes_headers_through_for_the_front_to_chunk(self):
        transport = await self.run_app(simple_app(headers=[(b"content-type", b"text/plain")]))
        self.assertEqual(transport.head()[2], [(b"content-type", b"text/plain")])

    async def test_transfer_encoding_from_the_app_is_ignored(self):
        # www spec, "Response Start": the server must ignore it.
        transport = await self.run_app(simple_app(headers=[(b"transfer-encoding", b"chunked"),
                                                           (b"x-a", b"1")]))
        self.assertEqual(transport.head()[2], [(b"x-a", b"1")])
        self.assertEqual(transport.last(), ("end", False))

    async def test_state_reaches_the_scope_as_a_copy(self):
        state = {"db": "pool"}
        seen = {}

        async def app(scope, receive, send):
            seen.update(scope["state"])
            scope["state"]["mine"] = True
            await send(START)
            await send({"type": "http.response.body"})
        await self.run_app(app, state=state)
        self.assertEqual(seen, {"db": "pool"})
        self.assertEqual(state, {"db": "pool"})


class NoBodyTest(ASGITestCase):
    async def test_head_request_drops_the_body_and_keeps_content_length(self):
        transport = await self.run_app(simple_app(headers=[(b"content-length", b"5")]),
                                       head=make_head(method="HEAD"))
        self.assertEqual(transport.events, [("head", 200, [(b"content-length", b"5")]), ("end", False)])
        self.assertEqual(self.logs, [])

    async def test_head_request_streaming_body_is_dropped(self):
        transport = await self.run_app(messages_app(
            START, {"type": "http.response.body", "body": b"a" * 10, "more_body": True},
            {"type": "http.response.body", "body": b"b"}), head=make_head(method="HEAD"))
        self.assertEqual(transport.kinds(), ["head", "end"])

    async def test_204_and_304_bodies_are_dropped(self):
        for status in (204, 304):
            with self.subTest(status=status):
                transport = await self.run_app(simple_app(status=status, headers=[]))
                self.assertEqual(transport.events, [("head", status, []), ("end", False)])


class ContentLengthTest(ASGITestCase):
    async def test_exact_length_in_pieces(self):
        transport = await self.run_app(messages_app(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4")]},
            {"type": "http.response.body", "body": b"ab", "more_body": True},
            {"type": "http.response.body", "body": b"cd"}))
        self.assertEqual(transport.body(), b"abcd")
        self.assertEqual(transport.last(), ("end", False))

    async def test_short_body_aborts_with_a_warning(self):
        transport = await self.run_app(simple_app(headers=[(b"content-length", b"10")], body=b"hello"))
        self.assertEqual(transport.body(), b"hello")
        self.assertEqual(transport.last(), ("end", True))
        self.assertEqual([level for level, _ in self.logs], ["warning"])
        self.assertIn("5 bytes less than its Content-Length", self.logs[0][1])
        self.assertIn("GET /", self.logs[0][1])

    async def test_long_body_is_cut_at_the_length_and_aborted(self):
        sends = []

        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"3")]})
            for piece in (b"ab", b"cd", b"ef"):
                await send({"type": "http.response.body", "body": piece, "more_body": True})
                sends.append(piece)
            await send({"type": "http.response.body"})
        transport = await self.run_app(app)
        self.assertEqual(transport.body(), b"abc")
        self.assertEqual(transport.last(), ("end", True))
        self.assertEqual(sends, [b"ab", b"cd", b"ef"])  # later messages are ignored, not errors
        self.assertIn("more than its Content-Length", self.logs[0][1])

    async def test_repeated_equal_lengths_are_tolerated(self):
        transport = await self.run_app(simple_app(headers=[(b"content-length", b"5"), (b"content-length", b"5")]))
        self.assertEqual(transport.last(), ("end", False))


class ReceiveTest(ASGITestCase):
    async def test_body_streams_with_more_body(self):
        got = []

        async def app(scope, receive, send):
            while True:
                message = await receive()
                got.append(message)
                if not message["more_body"]:
                    break
            await send(START)
            await send({"type": "http.response.body", "body": b"".join(m["body"] for m in got)})
        transport = await self.run_app(app, transport=FakeTransport(chunks=[b"ab", b"cd"]))
        self.assertEqual(got, [{"type": "http.request", "body": b"ab", "more_body": True},
                               {"type": "http.request", "body": b"cd", "more_body": False}])
        self.assertEqual(transport.body(), b"abcd")

    async def test_no_body(self):
        got = []

        async def app(scope, receive, send):
            got.append(await receive())
            await send(START)
            await send({"type": "http.response.body"})
        await self.run_app(app)
        self.assertEqual(got, [{"type": "http.request", "body": b"", "more_body": False}])

    async def test_body_is_not_read_unless_asked(self):
        # The first read_body is what sends 100 Continue.
        transport = await self.run_app(simple_app(), transport=FakeTransport(chunks=[b"data"]))
        self.assertEqual(transport.reads, 0)

    async def test_disconnect_on_every_call_once_the_response_is_over(self):
        got = []

        async def app(scope, receive, send):
            await send(START)
            await send({"type": "http.response.body", "body": b"x"})
            got.extend([await receive(), await receive(), await receive()])
        await self.run_app(app, transport=FakeTransport(chunks=[b"unread"]))
        self.assertEqual(got, [{"type": "http.disconnect"}] * 3)

    async def test_receive_after_the_body_waits_for_the_response_to_end(self):
        order = []

        async def app(scope, receive, send):
            await receive()
            waiter = asyncio.ensure_future(receive())
            await asyncio.sleep(0.01)
            order.append(("waiting", waiter.done()))
            await send(START)
            await send({"type": "http.response.body", "body": b"x"})
            order.append(("got", await waiter))
        await self.run_app(app)
        self.assertEqual(order, [("waiting", False), ("got", {"type": "http.disconnect"})])

    async def test_streaming_response_learns_at_once_of_a_client_that_left(self):
        loop = asyncio.get_running_loop()
        transport = FakeTransport()
        raised = []

        async def app(scope, receive, send):
            await receive()
            await send(START)
            await send({"type": "http.response.body", "body": b"tick", "more_body": True})
            loop.call_later(0.01, transport.disconnected.set)
            started = loop.time()
            message = await asyncio.wait_for(receive(), 1.0)
            self.assertLess(loop.time() - started, 0.5)
            self.assertEqual(message, {"type": "http.disconnect"})
            try:
                await send({"type": "http.response.body", "body": b"more", "more_body": True})
            except OSError as exc:  # www spec 2.4: an OSError subclass
                raised.append(exc)
                raise
        await self.run_app(app, transport=transport)
        self.assertIsInstance(raised[0], ClientDisconnected)
        self.assertEqual(transport.last(), ("end", True))
        self.assertEqual(self.logs, [])  # the server's own exception is not logged as an error

    async def test_body_cut_short_gives_disconnect(self):
        got = []

        async def app(scope, receive, send):
            got.append(await receive())
            got.append(await receive())
            got.append(await receive())
        transport = await self.run_app(app, transport=FakeTransport(chunks=[b"part"], cut=True))
        self.assertEqual(got, [{"type": "http.request", "body": b"part", "more_body": True},
                               {"type": "http.disconnect"}, {"type": "http.disconnect"}])
        self.assertEqual(transport.events, [("end", True)])
        self.assertEqual(self.logs, [])

    async def test_client_gone_while_streaming_and_the_app_catches_it(self):
        caught = []

        async def app(scope, receive, send):
            await send(START)
            try:
                for _ in range(5):
                    await send({"type": "http.response.body", "body": b"x", "more_body": True})
            except OSError as exc:
                caught.append(exc)
        transport = await self.run_app(app, transport=FakeTransport(gone_after_bodies=2))
        self.assertEqual(len(transport.bodies()), 2)
        self.assertIsInstance(caught[0], ClientDisconnected)
        self.assertEqual(transport.last(), ("end", True))
        self.assertEqual(self.logs, [])

    async def test_client_gone_before_the_app_sends_anything(self):
        transport = FakeTransport()
        transport.disconnected.set()
        transport = await self.run_app(simple_app(), transport=transport)
        self.assertEqual(transport.events, [("end", True)])
        self.assertEqual(self.logs, [])


class AfterTheResponseTest(ASGITestCase):
    async def test_messages_after_completion_are_ignored(self):
        transport = await self.run_app(messages_app(
            START, {"type": "http.response.body", "body": b"x"},
            {"type": "http.response.body", "body": b"late"}, START))
        self.assertEqual(transport.kinds(), ["head", "body", "end"])
        self.assertEqual(self.logs, [])

    async def test_finish_comes_before_background_work(self):
        # Starlette runs background tasks after the last body, in the same call.
        seen = []

        async def app(scope, receive, send):
            await send(START)
            await send({"type": "http.response.body", "body": b"x"})
            seen.append(transport.last())
        transport = FakeTransport()
        await self.run_app(app, transport=transport)
        self.assertEqual(seen, [("end", False)])

    async def test_error_after_completion_is_logged_only(self):
        async def app(scope, receive, send):
            await send(START)
            await send({"type": "http.response.body", "body": b"x"})
            raise RuntimeError("background task failed")
        transport = await self.run_app(app)
        self.assertEqual(transport.kinds(), ["head", "body", "end"])
        self.assertEqual(transport.last(), ("end", False))
        self.assertEqual(len(self.logs), 1)
        self.assertEqual(self.logs[0][0], "error")
        self.assertIn("Error handling request GET /", self.logs[0][1])
        self.assertIn("background task failed", self.logs[0][1])


class CancellationTest(ASGITestCase):
    async def cancel_while(self, app, transport):
        task = asyncio.ensure_future(run_http(app, make_head(), transport, log=lambda *a: None))
        await asyncio.sleep(0.01)
        task.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await task
        self.assert_one_terminal(transport)
        return transport

    async def test_cancelled_before_the_response(self):
        async def app(scope, receive, send):
            await asyncio.sleep(10)
        transport = await self.cancel_while(app, FakeTransport())
        self.assertEqual(transport.events, [("end", True)])

    async def test_cancelled_while_streaming(self):
        async def app(scope, receive, send):
            await send(START)
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
            await receive()
            await receive()
        transport = await self.cancel_while(app, FakeTransport())
        self.assertEqual(transport.kinds(), ["head", "body", "end"])
        self.assertEqual(transport.last(), ("end", True))

    async def test_cancelled_after_the_response(self):
        async def app(scope, receive, send):
            await send(START)
            await send({"type": "http.response.body", "body": b"x"})
            await asyncio.sleep(10)
        transport = await self.cancel_while(app, FakeTransport())
        self.assertEqual(transport.last(), ("end", False))


if __name__ == "__main__":
    unittest.main()
