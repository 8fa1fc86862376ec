"""Real frameworks through run_http with an in-memory transport: Starlette and
FastAPI as Debian packages them (python3-starlette, python3-fastapi; CI
installs them with scripts/install-system-deps.sh). Skipped only where they
cannot be imported."""
import asyncio
import contextlib
import json
import os
import tempfile
import unittest

from test_asgi_fakes import ASGITestCase, FakeTransport, make_head

from portico.asgi.detect import is_asgi
from portico.asgi.lifespan import Lifespan

try:
    import starlette  # noqa: F401
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, StreamingResponse
    from starlette.routing import Route
except ImportError:
    Starlette = None

try:
    import fastapi
except ImportError:
    fastapi = None


def header(transport, name):
    return [value for key, value in transport.head()[2] if key.lower() == name]


@unittest.skipIf(Starlette is None, "python3-starlette is not installed")
class StarletteTest(ASGITestCase):
    def setUp(self):
        handle, self.path = tempfile.mkstemp(suffix=".txt")
        os.write(handle, b"file contents\n")
        os.close(handle)
        self.addCleanup(os.unlink, self.path)

        async def hello(request):
            return PlainTextResponse("hello " + request.query_params.get("name", "world"))

        async def echo(request):
            body = await request.body()
            return JSONResponse({"length": len(body), "greeting": request.state.greeting,
                                 "path": request.url.path})

        async def stream(request):
            async def numbers():
                for n in range(3):
                    yield b"%d\n" % n
            return StreamingResponse(numbers(), media_type="text/plain")

        async def file(request):
            return FileResponse(self.path)

        async def crash(request):
            raise RuntimeError("handler crashed")

        @contextlib.asynccontextmanager
        async def lifespan(app):
            yield {"greeting": "hi"}

        self.app = Starlette(routes=[
            Route("/", hello), Route("/echo", echo, methods=["POST"]), Route("/stream", stream),
            Route("/file", file), Route("/crash", crash),
        ], lifespan=lifespan)

    async def serve(self, path, method="GET", body_chunks=(), query=b"", **kwargs):
        lifespan = Lifespan(self.app, "on", log=lambda *a: None)
        await lifespan.startup()
        try:
            transport = FakeTransport(chunks=body_chunks)
            head = make_head(method=method, path=path, query_string=query,
                             headers=[(b"host", b"testserver")] + list(kwargs.pop("headers", [])))
            return await self.run_app(self.app, head=head, transport=transport, state=lifespan.state, **kwargs)
        finally:
            await lifespan.shutdown()

    def test_detected_as_asgi(self):
        self.assertTrue(is_asgi(self.app))

    async def test_plain_response(self):
        transport = await self.serve(b"/", query=b"name=portico")
        self.assertEqual(transport.head()[1], 200)
        self.assertEqual(transport.body(), b"hello portico")
        self.assertEqual(header(transport, b"content-length"), [b"13"])
        self.assertEqual(transport.last(), ("end", False))

    async def test_request_body_and_lifespan_state(self):
        transport = await self.serve(b"/echo", method="POST", body_chunks=[b"abc", b"defg"],
                                     headers=[(b"content-length", b"7")])
        self.assertEqual(json.loads(transport.body()), {"length": 7, "greeting": "hi", "path": "/echo"})

    async def test_streaming_response_is_passed_through_for_the_front_to_chunk(self):
        transport = await self.serve(b"/stream")
        self.assertEqual(transport.body(), b"0\n1\n2\n")
        self.assertEqual(header(transport, b"content-length"), [])
        self.assertEqual(transport.last(), ("end", False))

    async def test_streaming_response_to_a_client_that_left(self):
        transport = FakeTransport(gone_after_bodies=1)
        head = make_head(path=b"/stream", headers=[(b"host", b"testserver")])
        await self.run_app(self.app, head=head, transport=transport, state={"greeting": "hi"})
        self.assertEqual(transport.bodies(), [b"0\n"])
        self.assertEqual(transport.last(), ("end", True))
        self.assertEqual([level for level, _ in self.logs if level == "error"], [])

    async def test_file_response(self):
        transport = await self.serve(b"/file")
        self.assertEqual(transport.body(), b"file contents\n")
        self.assertEqual(transport.last(), ("end", False))

    async def test_head_request(self):
        transport = await self.serve(b"/file", method="HEAD")
        self.assertEqual(transport.bodies(), [])
        self.assertEqual(header(transport, b"content-length"), [b"14"])
        self.assertEqual(transport.last(), ("end", False))

    async def test_not_found(self):
        transport = await self.serve(b"/nowhere")
        self.assertEqual(transport.head()[1], 404)

    async def test_handler_error_gets_starlettes_500_and_a_log(self):
        transport = await self.serve(b"/crash")
        self.assertEqual(transport.head()[1], 500)
        self.assertEqual(transport.last(), ("end", False))
        errors = [text for level, text in self.logs if level == "error"]
        self.assertEqual(len(errors), 1)
        self.assertIn("RuntimeError: handler crashed", errors[0])


@unittest.skipIf(fastapi is None, "python3-fastapi is not installed")
class FastAPITest(ASGITestCase):
    def setUp(self):
        app = fastapi.FastAPI()

        @app.get("/items/{item_id}")
        async def read_item(item_id: int, q: str = ""):
            return {"item_id": item_id, "q": q}

        @app.post("/items")
        async def create_item(request: fastapi.Request):
            payload = await request.json()
            return {"created": payload["name"]}

        @app.get("/missing")
        async def missing():
            raise fastapi.HTTPException(status_code=404, detail="no such thing")

        @app.get("/wait-for-disconnect")
        async def wait(request: fastapi.Request):
            while not await request.is_disconnected():
                await asyncio.sleep(0.005)
            return {"gone": True}

        self.app = app

    async def serve(self, path, method="GET", query=b"", chunks=(), transport=None):
        transport = transport or FakeTransport(chunks=chunks)
        head = make_head(method=method, path=path, query_string=query, headers=[(b"host", b"testserver")])
        return await self.run_app(self.app, head=head, transport=transport)

    async def test_lifespan_auto_with_fastapi(self):
        lifespan = Lifespan(self.app, "auto", log=lambda *a: None)
        await lifespan.startup()
        self.assertTrue(lifespan.supported)
        await lifespan.shutdown()

    async def test_path_and_query_parameters(self):
        self.assertTrue(is_asgi(self.app))
        transport = await self.serve(b"/items/42", query=b"q=x")
        self.assertEqual(transport.head()[1], 200)
        self.assertEqual(json.loads(transport.body()), {"item_id": 42, "q": "x"})

    async def test_validation_error(self):
        transport = await self.serve(b"/items/forty-two")
        self.assertEqual(transport.head()[1], 422)

    async def test_json_body(self):
        transport = await self.serve(b"/items", method="POST", chunks=[b'{"name":', b' "widget"}'])
        self.assertEqual(json.loads(transport.body()), {"created": "widget"})

    async def test_http_exception(self):
        transport = await self.serve(b"/missing")
        self.assertEqual(transport.head()[1], 404)
        self.assertEqual(json.loads(transport.body()), {"detail": "no such thing"})

    async def test_is_disconnected_sees_the_client_leave(self):
        transport = FakeTransport()
        asyncio.get_running_loop().call_later(0.02, transport.disconnected.set)
        await asyncio.wait_for(self.serve(b"/wait-for-disconnect", transport=transport), 2)
        self.assertEqual(transport.events, [("end", True)])


if __name__ == "__main__":
    unittest.main()
