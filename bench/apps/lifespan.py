"""ASGI lifespan for the bench's plain ASGI apps: startup and shutdown
acknowledged and nothing else, so that every server runs them the same way
(daphne sends no lifespan scope; the others do)."""


async def lifespan(receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
