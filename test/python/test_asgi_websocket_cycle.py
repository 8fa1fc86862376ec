"""The ASGI websocket scope's cycle (asgi/websocket_cycle.py) with an
in-memory WebSocketTransport: every message type, every violation, the
denial response, a close or a failure before the accept, and what the
application hears when the client leaves. Then a real Starlette WebSocket
endpoint through it (python3-starlette; skipped only where it cannot be
imported)."""
import asyncio
import unittest

from test_asgi_fakes import make_head

from portico.asgi.errors import ASGIViolation, ClientDisconnected, MessageTooLarge
from portico.asgi.scope import websocket_scope
from portico.asgi.websocket_cycle import run_websocket

try:
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocketDisconnect
except ImportError:
    Starlette = None


class FakeWebSocketTransport:
    """A WebSocketTransport in memory. ``arrive`` delivers what the front
    would: a str or bytes message, or ("close", code, reason); the
    ``arrivals`` given arrive at the accept, as the front sends nothing
    before it, and a close among them once the messages before it were
    read (a client that waits for its answers). ``cancel`` is the front's CANCEL. ``events`` records every
    call as a tuple, ``misuse`` anything the cycle must never do."""

    max_message = 16 * 1024 * 1024

    def __init__(self, *arrivals):
        self.disconnected = asyncio.Event()
        self.close = None
        self.closing = None
        self.queue = []
        self.events = []
        self.misuse = []
        self.terminals = 0
        self.accepted = False
        self.read = 0
        self._changed = asyncio.Event()
        self.arrivals = list(arrivals)

    def arrive(self, item):
        if isinstance(item, tuple):
            self.close = (item[1], item[2])
            self.disconnected.set()
        else:
            self.queue.append(item)
        self._changed.set()

    def cancel(self):
        if self.close is None:
            self.close = (1006, "")
        self.disconnected.set()
        self._changed.set()

    async def read_message(self):
        if not self.accepted:
            self.misuse.append("read_message before the accept")
        while True:
            if self.closing is not None:
                return self.closing
            if self.queue and not isinstance(self.queue[0], tuple):
                self.read += 1
                return self.queue.pop(0)
            if self.queue:
                self.arrive(self.queue.pop(0))
            if self.close is not None:
                return self.close
            if self.terminals:
                return (1006, "")
            self._changed.clear()
            await self._changed.wait()

    def send_accept(self, subprotocol, headers):
        self.accepted = True
        self._use("accept", subprotocol, list(headers))
        self.queue.extend(self.arrivals)
        self._changed.set()

    async def send_message(self, data, text):
        if self.close is not None:
            raise ClientDisconnected("the client disconnected")
        await asyncio.sleep(0)  # waiting for window credit
        self._use("message", data, text)

    def send_close(self, code, reason):
        self.closing = (code, reason)
        self._changed.set()
        self._use("close", code, reason)

    def send_head(self, status, headers):
        if self.accepted:
            self.misuse.append("an HTTP head after the accept")
        self._use("head", status, list(headers))

    async def send_body(self, data, more):
        if not data:
            self.misuse.append("send_body with no data")
        self._use("body", data, more)

    def finish(self, abort):
        self._use("end", abort)
        self.terminals += 1
        self._changed.set()

    def fail(self, status, text):
        self._use("error", status, text)
        self.terminals += 1
        self._changed.set()

    def _use(self, *event):
        if self.terminals:
            self.misuse.append("%s after the terminal call" % event[0])
        self.events.append(event)

    def kinds(self):
        return [e[0] for e in self.events]

    def messages(self):
        return [(e[1], e[2]) for e in self.events if e[0] == "message"]


def ws_head(path=b"/ws", subprotocols=None, headers=(), scheme="http"):
    fields = [(b"host", b"example.com"), (b"upgrade", b"websocket"), (b"connection", b"Upgrade"),
              (b"sec-websocket-version", b"13")]
    if subprotocols is not None:
        fields.append((b"sec-websocket-protocol", subprotocols))
    return make_head(path=path, headers=fields + list(headers), scheme=scheme)


ACCEPT = {"type": "websocket.accept"}


class CycleCase(unittest.IsolatedAsyncioTestCase):
    async def run_app(self, app, transport=None, head=None, **kwargs):
        transport = transport if transport is not None else FakeWebSocketTransport()
        self.logs = []
        kwargs.setdefault("log", lambda level, text: self.logs.append((level, text)))
        self.cycle = await run_websocket(app, head if head is not None else ws_head(), transport, **kwargs)
        self.assertEqual(transport.terminals, 1, transport.events)
        self.assertEqual(transport.misuse, [], transport.events)
        return transport

    def assert_failed(self, transport, *fragments):
        self.assertEqual(transport.events[-1][:2], ("error", 500), transport.events)
        for fragment in fragments:
            self.assertIn(fragment, transport.events[-1][2])
        return transport.events[-1][2]


class ScopeTest(unittest.TestCase):
    def test_the_websocket_scope(self):
        scope = websocket_scope(ws_head(path=b"/chat", subprotocols=b"graphql-ws, chat ,,v2"), {"db": 1})
        self.assertEqual(scope["type"], "websocket")
        self.assertEqual(scope["asgi"], {"version": "3.0", "spec_version": "2.4"})
        self.assertEqual(scope["scheme"], "ws")
        self.assertEqual((scope["path"], scope["raw_path"], scope["query_string"], scope["root_path"]),
                         ("/chat", b"/chat", b"", ""))
        self.assertEqual(scope["subprotocols"], ["graphql-ws", "chat", "v2"])
        self.assertEqual(scope["state"], {"db": 1})
        self.assertEqual(scope["extensions"], {"websocket.http.response": {}})
        self.assertEqual((scope["http_version"], scope["client"], scope["server"]),
                         ("1.1", ("127.0.0.1", 50000), ("127.0.0.1", 8000)))
        self.assertNotIn("method", scope)
        self.assertIn((b"sec-websocket-version", b"13"), scope["headers"])

    def test_https_is_wss_and_offers_may_span_fields(self):
        head = ws_head(scheme="https", subprotocols=b"a", headers=[(b"sec-websocket-protocol", b"b, c")])
        scope = websocket_scope(head)
        self.assertEqual(scope["scheme"], "wss")
        self.assertEqual(scope["subprotocols"], ["a", "b", "c"])
        self.assertEqual(websocket_scope(ws_head())["subprotocols"], [])

    def test_state_is_a_copy(self):
        state = {"n": 1}
        websocket_scope(ws_head(), state)["state"]["n"] = 2
        self.assertEqual(state, {"n": 1})


class ConversationTest(CycleCase):
    async def test_echo_text_and_binary_then_the_client_closes(self):
        heard = []

        async def app(scope, receive, send):
            heard.append(await receive())
            await send({"type": "websocket.accept"})
            while True:
                event = await receive()
                heard.append(event)
                if event["type"] == "websocket.disconnect":
                    return
                await send({"type": "websocket.send", "text": event.get("text"), "bytes": event.get("bytes")})
        transport = await self.run_app(app, FakeWebSocketTransport("héllo", b"\x00\xff", ("close", 4001, "bye")))
        self.assertEqual(heard, [
            {"type": "websocket.connect"},
            {"type": "websocket.receive", "text": "héllo"},
            {"type": "websocket.receive", "bytes": b"\x00\xff"},
            {"type": "websocket.disconnect", "code": 4001, "reason": "bye"},
        ])
        self.assertEqual(transport.kinds(), ["accept", "message", "message", "end"])
        self.assertEqual(transport.events[0], ("accept", None, []))
        self.assertEqual(transport.messages(), [("héllo".encode(), True), (b"\x00\xff", False)])
        self.assertEqual(transport.events[-1], ("end", False))

    async def test_accept_with_an_offered_subprotocol_and_headers(self):
        async def app(scope, receive, send):
            await send({"type": "websocket.accept", "subprotocol": "chat",
                        "headers": [(b"x-room", b"7"), [b"set-cookie", b"a=b"]]})
        transport = await self.run_app(app, head=ws_head(subprotocols=b"graphql-ws, chat"))
        self.assertEqual(transport.events[0], ("accept", "chat", [(b"x-room", b"7"), (b"set-cookie", b"a=b")]))
        self.assertEqual(transport.events[-1], ("end", False))

    async def test_close_after_accept_goes_out_and_the_app_hears_its_own_close(self):
        after = []

        async def app(scope, receive, send):
            await receive()
            await send(ACCEPT)
            await send({"type": "websocket.close", "code": 4000, "reason": "done"})
            after.append(await receive())
            await send({"type": "websocket.close"})  # closing what is closed: nothing
            with self.assertRaises(ClientDisconnected):
                await send({"type": "websocket.send", "text": "late"})
        transport = await self.run_app(app, FakeWebSocketTransport("queued"))
        self.assertEqual(transport.kinds(), ["accept", "close", "end"])
        self.assertEqual(transport.events[1], ("close", 4000, "done"))
        self.assertEqual(after, [{"type": "websocket.disconnect", "code": 4000, "reason": "done"}])

    async def test_close_defaults_to_1000(self):
        async def app(scope, receive, send):
            await send(ACCEPT)
            await send({"type": "websocket.close", "reason": None})
        transport = await self.run_app(app)
        self.assertEqual(transport.events[1], ("close", 1000, ""))

    async def test_a_receive_waiting_in_another_task_hears_the_close(self):
        async def app(scope, receive, send):
            await receive()
            await send(ACCEPT)
            reader = asyncio.ensure_future(receive())
            await asyncio.sleep(0.01)
            await send({"type": "websocket.close", "code": 1001})
            self.assertEqual(await asyncio.wait_for(reader, 1), {"type": "websocket.disconnect", "code": 1001, "reason": ""})
        await self.run_app(app)

    async def test_queued_messages_come_before_the_close(self):
        got = []

        async def app(scope, receive, send):
            await receive()
            await send(ACCEPT)
            for _ in range(4):
                got.append(await receive())
        await self.run_app(app, FakeWebSocketTransport("a", "b", ("close", 1005, "")))
        self.assertEqual([e.get("text", e["type"]) for e in got],
                         ["a", "b", "websocket.disconnect", "websocket.disconnect"])
        self.assertEqual(got[-1]["code"], 1005)

    async def test_a_message_too_large_for_a_frame_raises_and_the_connection_goes_on(self):
        transport = FakeWebSocketTransport()
        transport.max_message = 4

        async def app(scope, receive, send):
            await send(ACCEPT)
            with self.assertRaises(MessageTooLarge):
                await send({"type": "websocket.send", "bytes": b"12345"})
            await send({"type": "websocket.send", "bytes": b"1234"})
        await self.run_app(app, transport)
        self.assertEqual(transport.messages(), [(b"1234", False)])


class BeforeAcceptTest(CycleCase):
    async def test_close_before_accept_is_a_403(self):
        after = []

        async def app(scope, receive, send):
            await receive()
            await send({"type": "websocket.close", "code": 1008})
            after.append(await receive())
            with self.assertRaises(ClientDisconnected):
                await send(ACCEPT)
        transport = await self.run_app(app)
        self.assertEqual(transport.events, [("head", 403, []), ("end", False)])
        self.assertEqual(after[0]["type"], "websocket.disconnect")

    async def test_denial_response(self):
        async def app(scope, receive, send):
            await send({"type": "websocket.http.response.start", "status": 401,
                        "headers": [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")]})
            await send({"type": "websocket.http.response.body", "body": b"who ", "more_body": True})
            await send({"type": "websocket.http.response.body", "body": b"are you?"})
            self.assertEqual((await receive())["type"], "websocket.connect")
            self.assertEqual(await receive(), {"type": "websocket.disconnect", "code": 1006, "reason": ""})
        transport = await self.run_app(app)
        self.assertEqual(transport.events, [
            ("head", 401, [(b"content-type", b"text/plain"), (b"www-authenticate", b"Bearer")]),
            ("body", b"who ", True), ("body", b"are you?", False), ("end", False)])

    async def test_denial_response_without_a_body(self):
        async def app(scope, receive, send):
            await send({"type": "websocket.http.response.start", "status": 404})
            await send({"type": "websocket.http.response.body"})
        transport = await self.run_app(app)
        self.assertEqual(transport.events, [("head", 404, []), ("end", False)])

    async def test_denial_response_is_an_extension_only_where_offered(self):
        async def app(scope, receive, send):
            await send({"type": "websocket.http.response.start", "status": 401})
        transport = await self.run_app(app, extensions=())
        self.assert_failed(transport, "unknown message type 'websocket.http.response.start'")

    async def test_raise_before_accept_is_a_500_with_the_traceback(self):
        async def app(scope, receive, send):
            await receive()
            raise RuntimeError("no database")
        text = self.assert_failed(await self.run_app(app), "Traceback", "RuntimeError: no database")
        self.assertIn("WebSocket /ws", text)

    async def test_return_before_accept_is_a_500(self):
        async def app(scope, receive, send):
            await receive()
        self.assert_failed(await self.run_app(app), "returned without accepting or closing the WebSocket")

    async def test_return_in_the_middle_of_a_denial_cuts_it(self):
        async def app(scope, receive, send):
            await send({"type": "websocket.http.response.start", "status": 403})
            await send({"type": "websocket.http.response.body", "body": b"x", "more_body": True})
        transport = await self.run_app(app)
        self.assertEqual(transport.events[-1], ("end", True))
        self.assertIn("denial response", self.logs[-1][1])

    async def test_receive_before_accept_waits_for_the_client_to_leave(self):
        transport = FakeWebSocketTransport()
        heard = []

        async def app(scope, receive, send):
            heard.append(await receive())
            asyncio.get_running_loop().call_later(0.02, transport.cancel)
            heard.append(await receive())
            try:
                await send(ACCEPT)
            except OSError as exc:  # www spec 2.4: an OSError subclass
                heard.append(type(exc).__name__)
        transport = await self.run_app(app, transport)
        self.assertEqual(heard, [{"type": "websocket.connect"},
                                 {"type": "websocket.disconnect", "code": 1006, "reason": ""},
                                 "ClientDisconnected"])
        # Nobody waits for an answer: the stream just ends, cut.
        self.assertEqual(transport.events, [("end", True)])

    async def test_a_raise_after_the_403_is_logged(self):
        async def app(scope, receive, send):
            await send({"type": "websocket.close"})
            raise ValueError("afterwards")
        transport = await self.run_app(app)
        self.assertEqual(transport.events, [("head", 403, []), ("end", False)])
        self.assertIn("ValueError: afterwards", self.logs[-1][1])

    async def test_cancelled_before_accept_ends_the_stream(self):
        async def app(scope, receive, send):
            await asyncio.sleep(10)
        transport = FakeWebSocketTransport()
        task = asyncio.ensure_future(run_websocket(app, ws_head(), transport))
        await asyncio.sleep(0.01)
        task.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await task
        self.assertEqual(transport.events, [("end", True)])


class AfterAcceptTest(CycleCase):
    async def test_raise_after_accept_is_an_error_with_the_traceback(self):
        async def app(scope, receive, send):
            await send(ACCEPT)
            await send({"type": "websocket.send", "text": "one"})
            raise KeyError("boom")
        transport = await self.run_app(app)
        self.assertEqual(transport.kinds(), ["accept", "message", "error"])
        self.assert_failed(transport, "Traceback", "KeyError: 'boom'")

    async def test_send_after_the_client_left_raises_and_receive_says_disconnect(self):
        seen = []

        async def app(scope, receive, send):
            await receive()
            await send(ACCEPT)
            await asyncio.sleep(0.01)
            try:
                await send({"type": "websocket.send", "text": "anyone?"})
            except OSError as exc:
                seen.append(type(exc).__name__)
            # The queued message is not handed out: the connection is over.
            seen.append(await receive())
            raise ClientDisconnected("let it out")
        transport = FakeWebSocketTransport("unread")
        asyncio.get_running_loop().call_later(0.005, transport.arrive, ("close", 1001, "going"))
        transport = await self.run_app(app, transport)
        self.assertEqual(seen, ["ClientDisconnected", {"type": "websocket.disconnect", "code": 1001, "reason": "going"}])
        # ClientDisconnected out of the application is no error.
        self.assertEqual(transport.events[-1], ("end", False))
        self.assertEqual(self.logs, [])


def violation_app(*messages, catch=False):
    async def app(scope, receive, send):
        await receive()
        for message in messages:
            if catch:
                try:
                    await send(message)
                except ASGIViolation:
                    pass
            else:
                await send(message)
    return app


class ViolationTest(CycleCase):
    CASES = [
        ("send before accept", [{"type": "websocket.send", "text": "x"}], "websocket.send before websocket.accept"),
        ("accept twice", [ACCEPT, ACCEPT], "websocket.accept was sent twice"),
        ("subprotocol not offered", [{"type": "websocket.accept", "subprotocol": "soap"}],
         "subprotocol 'soap' is not one the client offered (chat)"),
        ("subprotocol not a str", [{"type": "websocket.accept", "subprotocol": b"chat"}], "must be a str or None"),
        ("both bytes and text", [ACCEPT, {"type": "websocket.send", "text": "a", "bytes": b"a"}],
         "exactly one of bytes and text, got both"),
        ("neither", [ACCEPT, {"type": "websocket.send", "text": None}], "exactly one of bytes and text, got neither"),
        ("text not a str", [ACCEPT, {"type": "websocket.send", "text": b"a"}], "text must be a str"),
        ("bytes not bytes", [ACCEPT, {"type": "websocket.send", "bytes": "a"}], "bytes must be bytes"),
        ("lone surrogate", [ACCEPT, {"type": "websocket.send", "text": "\udcff"}], "not valid Unicode"),
        ("unknown type", [{"type": "websocket.pong"}], "unknown message type 'websocket.pong'"),
        ("http type", [{"type": "http.response.start", "status": 200}], "unknown message type 'http.response.start'"),
        ("not a dict", ["websocket.accept"], "expected a message dict with a 'type'"),
        ("accept after a denial start", [{"type": "websocket.http.response.start", "status": 403}, ACCEPT],
         "websocket.accept after websocket.http.response.start"),
        ("denial after accept", [ACCEPT, {"type": "websocket.http.response.start", "status": 403}],
         "websocket.http.response.start after websocket.accept"),
        ("denial body first", [{"type": "websocket.http.response.body", "body": b""}],
         "websocket.http.response.body before websocket.http.response.start"),
        ("denial status 101", [{"type": "websocket.http.response.start", "status": 101}], "informational"),
        ("close during a denial", [{"type": "websocket.http.response.start", "status": 403},
                                   {"type": "websocket.close"}], "denial response must be completed"),
        ("reserved close code", [ACCEPT, {"type": "websocket.close", "code": 1006}], "1006 is not one an endpoint"),
        ("close code out of range", [ACCEPT, {"type": "websocket.close", "code": 5000}], "5000"),
        ("close reason too long", [ACCEPT, {"type": "websocket.close", "reason": "é" * 62}], "longer than 123 bytes"),
        ("sec-websocket-protocol header", [{"type": "websocket.accept", "headers": [(b"sec-websocket-protocol", b"chat")]}],
         "use subprotocol"),
        ("hop-by-hop header", [{"type": "websocket.accept", "headers": [(b"connection", b"close")]}], "hop-by-hop"),
        ("header with CRLF", [{"type": "websocket.accept", "headers": [(b"x-a", b"1\r\nx-b: 2")]}], "control character"),
    ]

    async def test_each_violation_raised_into_the_app_is_a_500(self):
        for name, messages, fragment in self.CASES:
            with self.subTest(name):
                transport = await self.run_app(violation_app(*messages), head=ws_head(subprotocols=b"chat"))
                self.assertNotIn("accept", transport.kinds()[1:])
                self.assert_failed(transport, "ASGI protocol violation in WebSocket /ws", fragment)
                self.assertNotIn("close", transport.kinds())

    async def test_a_violation_the_app_swallows_still_fails_the_connection(self):
        transport = await self.run_app(violation_app(ACCEPT, {"type": "websocket.send"}, catch=True))
        self.assertEqual(transport.kinds(), ["accept", "error"])
        self.assert_failed(transport, "exactly one of bytes and text")

    async def test_after_a_violation_nothing_more_goes_out(self):
        transport = await self.run_app(violation_app(
            ACCEPT, {"type": "websocket.send"}, {"type": "websocket.send", "text": "fine"}, catch=True))
        self.assertEqual(transport.messages(), [])


@unittest.skipIf(Starlette is None, "python3-starlette is not installed")
class StarletteTest(CycleCase):
    def make_app(self):
        self.closed_with = []

        async def echo(websocket):
            await websocket.accept(subprotocol="chat")
            try:
                while True:
                    text = await websocket.receive_text()
                    await websocket.send_text("echo: " + text)
                    await websocket.send_bytes(text.encode()[::-1])
            except WebSocketDisconnect as exc:
                self.closed_with.append(exc.code)

        async def json_once(websocket):
            await websocket.accept()
            data = await websocket.receive_json()
            await websocket.send_json({"got": data, "path": websocket.url.path})
            await websocket.close(code=4002)

        return Starlette(routes=[WebSocketRoute("/echo", echo), WebSocketRoute("/json", json_once)])

    async def test_echo_endpoint(self):
        transport = FakeWebSocketTransport("hi", "there", ("close", 1000, ""))
        transport = await self.run_app(self.make_app(), transport, head=ws_head(b"/echo", b"chat, v2"))
        self.assertEqual(transport.events[0], ("accept", "chat", []))
        self.assertEqual(transport.messages(), [(b"echo: hi", True), (b"ih", False),
                                                (b"echo: there", True), (b"ereht", False)])
        self.assertEqual(transport.events[-1], ("end", False))
        self.assertEqual(self.closed_with, [1000])

    async def test_json_and_a_close_code(self):
        transport = FakeWebSocketTransport('{"n": 1}')
        transport = await self.run_app(self.make_app(), transport, head=ws_head(b"/json"))
        self.assertEqual(transport.kinds(), ["accept", "message", "close", "end"])
        self.assertEqual(transport.messages()[0][0], b'{"got": {"n": 1}, "path": "/json"}')
        self.assertEqual(transport.events[2], ("close", 4002, ""))

    async def test_no_route_is_a_403(self):
        transport = await self.run_app(self.make_app(), head=ws_head(b"/nowhere"))
        self.assertEqual(transport.events, [("head", 403, []), ("end", False)])


if __name__ == "__main__":
    unittest.main()
