"""A 100 KiB ASGI response, built once at import: the bytes big.py sends."""

from lifespan import lifespan

BODY = bytes(range(256)) * 400  # 102400 bytes
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/octet-stream"), (b"content-length", str(len(BODY)).encode())],
}
END = {"type": "http.response.body", "body": BODY}


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        return await lifespan(receive, send)
    await send(START)
    await send(END)
