"""The interfaces this runtime serves, as data: for each, the executor that
runs an application of that kind and the request loop it runs on.

    "wsgi"   executor.Executor (PEP 3333) on the inline loop, or on the
             thread-pool loop with --threads > 1

An ASGI executor on an asyncio loop is one more entry; neither side knows the
other. The config (worker_config.py) may name an interface that has no entry
here yet: the worker refuses it at boot, as it does an application that
cannot be loaded.
"""
from __future__ import annotations

from .codec import CAP_WSGI
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


class Interface:
    __slots__ = ("name", "capability", "make_executor", "make_loop")

    def __init__(self, name: str, capability: int, make_executor, make_loop) -> None:
        self.name = name
        # The READY capability bit that says this runtime serves it.
        self.capability = capability
        # make_executor(app, config) -> the executor the loop hands requests to.
        self.make_executor = make_executor
        # make_loop(sock, config) -> the request loop on the channel socket (request_loop.py).
        self.make_loop = make_loop


INTERFACES = {
    "wsgi": Interface("wsgi", CAP_WSGI, _wsgi_executor, _blocking_loop),
}


def capabilities() -> int:
    """READY's capability bits: what this runtime serves."""
    bits = 0
    for interface in INTERFACES.values():
        bits |= interface.capability
    return bits


def interface_for(requested: str, app) -> Interface:
    """The entry that serves ``app`` under the config's ``interface``.
    "auto" is WSGI while WSGI is the only entry (asgi/detect.py's
    choose_interface tells the two apart once ASGI has its entry)."""
    name = "wsgi" if requested == "auto" else requested
    interface = INTERFACES.get(name)
    if interface is None:
        raise AppLoadError("APP_INTERFACE_UNSERVED",
                           "portico worker: this Python runtime does not serve the \"%s\" interface yet "
                           "(it serves %s)" % (name, ", ".join(INTERFACES)))
    return interface
