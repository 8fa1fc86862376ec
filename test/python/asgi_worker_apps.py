"""ASGI applications for test_asgi_worker.py's real worker processes (not a
test module: the worker imports it by name, with this directory on its
pythonpath)."""
import asyncio
import os
import sys
import time


def block_the_loop(seconds):
    time.sleep(seconds)  # THE BLOCKING LINE: a synchronous call in a coroutine


async def _respond(send, body, status=200):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["started_in"] = os.getpid()
                await send({"type": "lifespan.startup.complete"})
            else:
                sys.stderr.write("lifespan shutdown ran in %d\n" % os.getpid())
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path == "/block":
        await _respond(send, b"blocking")
        block_the_loop(float(scope["query_string"] or b"3"))
        return
    if path == "/wait":
        try:
            await asyncio.sleep(60)
        finally:
            sys.stderr.write("the waiting request unwound\n")
    if path == "/pids":
        await _respond(send, b"%d %d" % (scope["state"]["started_in"], os.getpid()))
        return
    await _respond(send, b"hello from asgi")


async def failed_startup(scope, receive, send):
    await receive()
    await send({"type": "lifespan.startup.failed", "message": "the database is not there"})


async def raising_startup(scope, receive, send):
    await receive()
    raise ConnectionRefusedError("cannot reach the cache")
