"""What a request loop is: how a worker runs the requests the front sends.

The frame link (frame_link.py) turns fd 3 into streams; a request loop takes
the streams from ``link.pending`` and runs each through the executor, and
decides how a request that must wait for the front (request body, response
window) waits. interfaces.py picks the loop for the worker's interface and
--threads:

    inline_loop.InlineLoop            one request at a time; a wait is a
                                      blocking read of the channel
    thread_pool_loop.ThreadPoolLoop   --threads request threads and one
                                      reader thread
    asgi_loop.AsgiLoop                ASGI applications, each request a
                                      task of one asyncio event loop

Like transport.py, this module is the contract, not imported at run time.
"""
from __future__ import annotations

from typing import Callable, Protocol


class RequestLoop(Protocol):
    #: The FrameLink the loop serves; the worker sends READY through it.
    link: object

    # Optional: ``boot(executor)``, run before READY (the ASGI loop's
    # lifespan startup); an AppLoadError from it is a boot error.

    def serve(self, executor) -> None:
        """Runs requests until STOP, after the ones already received, and
        flushes. EOF on fd 3 raises ChannelClosed, a broken frame
        ChannelCorrupt."""

    # wait() and poll() are the blocking loops' (FrameLink.waiter); the
    # ASGI loop's tasks await instead (asgi_stream.py).

    def wait(self, stream, ready: Callable[[], bool]) -> None:
        """Blocks the request on ``stream`` until ready() is true, the
        frames from the front dispatched meanwhile (FrameLink.waiter)."""

    def poll(self) -> None:
        """Takes in the frames that have already arrived, without blocking,
        so that a streaming response notices a CANCEL."""
