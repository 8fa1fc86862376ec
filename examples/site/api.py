"""The site's ASGI application, mounted at /api by portico.toml beside it.
Standard library only, written against the ASGI 3 spec directly: a
FastAPI or Starlette app mounts the same way.

    GET /api/            JSON: the request as the app sees it, and when this worker started
    GET /api/clock       server-sent events: the time, once a second, until the client leaves
    WS  /api/echo        a WebSocket that sends back every message, text or binary
"""
import asyncio
import json
import time


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await lifespan(scope, receive, send)
    elif scope["type"] == "http":
        await http(scope, receive, send)
    elif scope["type"] == "websocket":
        await websocket(scope, receive, send)


async def lifespan(scope, receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            # Lifespan state (ASGI lifespan spec): every request's scope gets a copy.
            scope["state"]["started"] = time.strftime("%Y-%m-%d %H:%M:%S")
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def http(scope, receive, send):
    path = scope["path"][len(scope["root_path"]):] or "/"
    if path == "/":
        body = json.dumps({
            "method": scope["method"],
            "path": scope["path"],
            "root_path": scope["root_path"],
            "query": scope["query_string"].decode("latin-1"),
            "worker_started": scope["state"].get("started"),
        }).encode("utf-8")
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
    elif path == "/clock":
        await clock(receive, send)
    else:
        await send({"type": "http.response.start", "status": 404,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"not found\n"})


async def clock(receive, send):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
    gone = asyncio.ensure_future(wait_for_disconnect(receive))
    try:
        while not gone.done():
            now = time.strftime("%H:%M:%S")
            await send({"type": "http.response.body", "body": ("data: %s\n\n" % now).encode(), "more_body": True})
            await asyncio.wait([gone], timeout=1)
    except OSError:
        return  # the client left while we were sending
    finally:
        gone.cancel()


async def wait_for_disconnect(receive):
    # The request (a GET: no body) comes first; http.disconnect once the client leaves.
    while (await receive())["type"] != "http.disconnect":
        pass


async def websocket(scope, receive, send):
    path = scope["path"][len(scope["root_path"]):]
    if path != "/echo":
        await send({"type": "websocket.close", "code": 1008})  # before accept: the client gets 403
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})
