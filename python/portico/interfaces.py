"""The interfaces this runtime serves, as data: for each, the executor that
runs an application of that kind and the request loop it runs on.

    "wsgi"   executor.Executor (PEP 3333) on the inline loop, or on the
             thread-pool loop with --threads > 1
    "asgi"   asgi_loop.AsgiApplication (ASGI 3, HTTP, WebSocket and lifespan) on the
             asyncio loop (asgi_loop.AsgiLoop), every request a task

Neither side knows the other. "auto" in the config is decided by the
application (asgi/detect.py). The ASGI modules, and asyncio with them, are
imported only by a worker that serves ASGI.
"""
from __future__ import annotations

from .asgi.detect import choose_interface
from .codec import ASGI, CAP_ASGI, CAP_WEBSOCKET, CAP_WSGI
from .errors import AppLoadError
from .executor import Executor
from .inline_loop import InlineLoop
from .worker_config import WorkerConfig


def _wsgi_executor(app, config: WorkerConfig):
    return Executor(app, multithread=config.threads > 1, multiprocess=config.multiprocess,
                    debug=config.debug)


def _blocking_loop(sock, config: WorkerConfig):
    if config.threads == 1:
        return InlineLoop(sock)
    from .thread_pool_loop import ThreadPoolLoop  # only --threads needs threading's machinery
    return ThreadPoolLoop(sock, config.threads)


def _asgi_executor(app, config: WorkerConfig):
    from .asgi_loop import AsgiApplication
    return AsgiApplication(app, config.asgiLifespan)


def _asgi_loop(sock, config: WorkerConfig):
    from .asgi_loop import AsgiLoop
    return AsgiLoop(sock)


class Interface:
    __slots__ = ("name", "capability", "ready_flags", "make_executor", "make_loop")

    def __init__(self, name: str, capability: int, make_executor, make_loop, ready_flags: int = 0) -> None:
        self.name = name
        # The READY capability bit that says this runtime serves it.
        self.capability = capability
        # READY's flags for a worker that serves it (codec.ASGI).
        self.ready_flags = ready_flags
        # make_executor(app, config) -> the executor the loop hands requests to.
        self.make_executor = make_executor
        # make_loop(sock, config) -> the request loop on the channel socket (request_loop.py).
        self.make_loop = make_loop


INTERFACES = {
    "wsgi": Interface("wsgi", CAP_WSGI, _wsgi_executor, _blocking_loop),
    # The ASGI loop runs the websocket scope too (asgi/websocket_cycle.py).
    "asgi": Interface("asgi", CAP_ASGI | CAP_WEBSOCKET, _asgi_executor, _asgi_loop, ready_flags=ASGI),
}


def capabilities() -> int:
    """READY's capability bits: what this runtime serves."""
    bits = 0
    for interface in INTERFACES.values():
        bits |= interface.capability
    return bits


def interface_for(requested: str, app) -> Interface:
    """The entry that serves ``app`` under the config's ``interface``:
    "auto" tells by the application; "wsgi" for an application that is
    clearly ASGI is an AppLoadError (choose_interface)."""
    name = choose_interface(app, requested)
    interface = INTERFACES.get(name)
    if interface is None:
        raise AppLoadError("APP_INTERFACE_UNSERVED",
                           "portico worker: this Python runtime does not serve the \"%s\" interface yet "
                           "(it serves %s)" % (name, ", ".join(INTERFACES)))
    return interface
