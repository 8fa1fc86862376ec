"""WebSocket cells (issue #14): one raw ASGI 3 application, the same bytes for
every server, driven by bench/ws-client.mjs.

    /echo   every message sent back as it came (text or bytes)
    /down   one way, app to client: each text message "<n>" is answered with
            n text messages of 64 bytes; the client keeps two such bursts
            asked for, so that the app always has the next one waiting
    /up     one way, client to app: messages are counted, and the text "?"
            is answered with the count since the last "?"
    /idle   accepted, then nothing until the client leaves

Any HTTP request gets the 13-byte hello world: the bench's readiness probe
and answer check.
"""

from lifespan import lifespan

HELLO_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")],
}
HELLO_BODY = {"type": "http.response.body", "body": b"Hello, world!"}
ACCEPT = {"type": "websocket.accept"}
MESSAGE = {"type": "websocket.send", "text": "x" * 64}


async def echo(receive, send):
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


async def down(receive, send):
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        for _ in range(int(message["text"])):
            await send(MESSAGE)


async def up(receive, send):
    count = 0
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") == "?":
            await send({"type": "websocket.send", "text": str(count)})
            count = 0
        else:
            count += 1


async def idle(receive, send):
    while (await receive())["type"] != "websocket.disconnect":
        pass


ROUTES = {"/echo": echo, "/down": down, "/up": up, "/idle": idle}


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        return await lifespan(receive, send)
    if scope["type"] == "http":
        await send(HELLO_START)
        await send(HELLO_BODY)
        return
    route = ROUTES.get(scope["path"])
    connect = await receive()
    if route is None or connect["type"] != "websocket.connect":
        await send({"type": "websocket.close", "code": 1008})
        return
    await send(ACCEPT)
    await route(receive, send)
