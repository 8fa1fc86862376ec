"""The inline request loop (--threads 1): requests run one at a time, in the
order the front sent them, on the main thread.

Every wait for the front (request body, response window) is a blocking read
of the channel that dispatches whatever else arrives meanwhile: other
streams' frames go to their state, new REQUESTs queue in ``link.pending``.
No locks, no threads: the hot path is the frame link's and the executor's
own work.
"""
from __future__ import annotations

from .frame_link import FrameLink
from .stream_transport import run_request


class InlineLoop:
    def __init__(self, sock) -> None:
        self.link = FrameLink(sock)
        self.link.waiter = self

    def serve(self, executor) -> None:
        link = self.link
        pending = link.pending
        while True:
            while pending:
                run_request(link, pending.popleft(), executor)
            if link.stopping:
                link.flush()
                return
            link.read()

    def wait(self, stream, ready) -> None:
        read = self.link.read
        while not ready():
            read()

    def poll(self) -> None:
        self.link.read(block=False)
