"""Awaits 100 ms, then answers hello world: a request that holds no CPU
while it waits, so a server's concurrency, not its speed, decides req/s."""

import asyncio

from lifespan import lifespan

BODY = b"Hello, world!"
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")],
}
END = {"type": "http.response.body", "body": BODY}


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        return await lifespan(receive, send)
    await asyncio.sleep(0.1)
    await send(START)
    await send(END)
