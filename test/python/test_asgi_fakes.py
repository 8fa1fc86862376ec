"""Fakes shared by the test_asgi_* suites (no tests of its own): a
RequestHead stand-in, an in-memory HTTPTransport that records what would
have become frames, and a TestCase that runs an application through
run_http and checks the transport got exactly one terminal call.

Only the asgi package is imported, so these suites do not depend on the
frame channel."""
import asyncio
import os
import sys
import types
import unittest

PYTHON_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "python")
if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

from portico.asgi.errors import ClientDisconnected  # noqa: E402
from portico.asgi.http_cycle import run_http  # noqa: E402


def make_head(method="GET", path=b"/", raw_path=None, query_string=b"", root_path=b"",
              headers=(), http_version="1.1", scheme="http", client=("127.0.0.1", 50000),
              server=("127.0.0.1", 8000), tls=None):
    """A RequestHead stand-in with the attributes the request loop decodes."""
    return types.SimpleNamespace(
        method=method, scheme=scheme, http_version=http_version, path=path,
        raw_path=path if raw_path is None else raw_path, query_string=query_string,
        root_path=root_path, headers=list(headers), client=client, server=server, tls=tls)


class FakeTransport:
    """An HTTPTransport in memory. ``chunks``: the request body as it
    arrives; ``cut``: the client leaves once they are read (REQUEST_END with
    ABORTED); ``gone_after_bodies``: the client leaves after that many
    send_body calls. ``events`` records calls as tuples; ``misuse`` anything
    the cycle must never do (a call after the terminal one, an empty body)."""

    def __init__(self, chunks=(), cut=False, gone_after_bodies=None, body_gate=None):
        self.disconnected = asyncio.Event()
        self.chunks = list(chunks)
        self.cut = cut
        self.gone_after_bodies = gone_after_bodies
        self.body_gate = body_gate
        self.events = []
        self.misuse = []
        self.terminals = 0
        self.reads = 0

    async def read_body(self):
        self.reads += 1
        if self.body_gate is not None:
            await self.body_gate.wait()
        if not self.chunks:
            if self.cut:
                self.disconnected.set()
                raise ClientDisconnected("the request body was cut short")
            return b"", False
        chunk = self.chunks.pop(0)
        return chunk, bool(self.chunks) or self.cut

    def send_early_hints(self, headers):
        self._use("hints", list(headers))

    def send_head(self, status, headers):
        self._use("head", status, list(headers))

    async def send_body(self, data, more):
        if not data:
            self.misuse.append("send_body with no data")
        if self.disconnected.is_set():
            raise ClientDisconnected("the client disconnected")
        await asyncio.sleep(0)  # waiting for window credit
        self._use("body", data, more)
        if self.gone_after_bodies is not None and len(self.bodies()) >= self.gone_after_bodies:
            self.disconnected.set()

    def send_file(self, path, offset, length):
        self._use("file", path, offset, length)

    def send_trailers(self, headers):
        self._use("trailers", list(headers))

    def finish(self, abort):
        self._use("end", abort)
        self.terminals += 1

    def fail(self, status, text):
        self._use("error", status, text)
        self.terminals += 1

    def _use(self, *event):
        if self.terminals:
            self.misuse.append("%s after the terminal call" % event[0])
        self.events.append(event)

    # -- views for assertions
    def kinds(self):
        return [e[0] for e in self.events]

    def head(self):
        heads = [e for e in self.events if e[0] == "head"]
        return heads[0] if heads else None

    def bodies(self):
        return [e[1] for e in self.events if e[0] == "body"]

    def body(self):
        return b"".join(self.bodies())

    def last(self):
        return self.events[-1]


class ASGITestCase(unittest.IsolatedAsyncioTestCase):
    """Runs applications through run_http; every run must give the
    transport exactly one terminal call and no misuse."""

    async def run_app(self, app, head=None, transport=None, **kwargs):
        transport = transport if transport is not None else FakeTransport()
        self.logs = []
        kwargs.setdefault("log", lambda level, text: self.logs.append((level, text)))
        await run_http(app, head if head is not None else make_head(), transport, **kwargs)
        self.assert_one_terminal(transport)
        return transport

    def assert_one_terminal(self, transport):
        self.assertEqual(transport.terminals, 1, transport.events)
        self.assertEqual(transport.misuse, [], transport.events)

    def assert_failed(self, transport, *fragments):
        """The client got a 500 and nothing else; the log text names the problem."""
        self.assertEqual(transport.kinds(), ["error"], transport.events)
        _, status, text = transport.last()
        self.assertEqual(status, 500)
        for fragment in fragments:
            self.assertIn(fragment, text)
        return text

    def assert_aborted(self, transport, *fragments):
        """The response was cut (finish(abort=True)) and an error logged."""
        self.assertEqual(transport.last(), ("end", True), transport.events)
        errors = [text for level, text in self.logs if level == "error"]
        self.assertEqual(len(errors), 1, self.logs)
        for fragment in fragments:
            self.assertIn(fragment, errors[0])
        return errors[0]


def simple_app(status=200, headers=((b"content-type", b"text/plain"),), body=b"hello", **start):
    async def app(scope, receive, send):
        await send(dict({"type": "http.response.start", "status": status, "headers": list(headers)}, **start))
        await send({"type": "http.response.body", "body": body})
    return app


def messages_app(*messages):
    """An application that sends ``messages`` in order and returns."""
    async def app(scope, receive, send):
        for message in messages:
            await send(message)
    return app


START = {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]}
