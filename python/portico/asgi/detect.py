"""Which interface an application speaks: ASGI 3 or WSGI.

ASGI 3.0 ("Applications"): an application is a single asynchronous
callable, ``async def app(scope, receive, send)``. A WSGI application is a
plain callable. So ``--interface auto`` (uvicorn names the same choice
"auto") decides on whether the callable is a coroutine function.
"""
from __future__ import annotations

import functools
import inspect
import sys

from ..errors import AppLoadError

AUTO = "auto"
ASGI = "asgi"
WSGI = "wsgi"
INTERFACES = (AUTO, ASGI, WSGI)


def is_asgi(app) -> bool:
    """True when calling ``app`` gives a coroutine: an ``async def``
    function, an object whose ``__call__`` is one (FastAPI, Starlette,
    Quart and Django's ASGIHandler instances), or a functools.partial of
    either. A class is never one: calling it builds an instance (the ASGI 2
    double callable, which portico does not serve)."""
    while isinstance(app, functools.partial):
        app = app.func
    if inspect.isclass(app):
        return False
    if _is_coroutine_function(app):
        return True
    return _is_coroutine_function(getattr(app, "__call__", None))


def _is_coroutine_function(func) -> bool:
    if func is None:
        return False
    if inspect.iscoroutinefunction(func):
        return True
    # A sync callable that returns a coroutine can say so: asgiref's
    # markcoroutinefunction (which Django uses for its async views and
    # middleware) sets asyncio's private marker before Python 3.12, and
    # inspect.markcoroutinefunction's (3.12+) is what iscoroutinefunction
    # above already honours. asyncio.iscoroutinefunction would find the old
    # marker too, but it is deprecated from Python 3.14. The marker is
    # looked up, not imported: where asyncio is not loaded nothing can
    # carry it, and a WSGI worker is spared asyncio's import (~20 ms).
    marker = getattr(sys.modules.get("asyncio.coroutines"), "_is_coroutine", None)
    target = getattr(func, "__func__", func)
    return marker is not None and getattr(target, "_is_coroutine", None) is marker


def choose_interface(app, interface: str = AUTO) -> str:
    """``--interface``: ASGI or WSGI for ``app``. ``auto`` detects it;
    ``asgi`` is trusted as given (a sync callable may return an awaitable);
    ``wsgi`` for an application that is clearly ASGI is refused with an
    AppLoadError, which the worker reports as a boot error: every request
    would otherwise fail with a confusing 500."""
    if interface not in INTERFACES:
        raise ValueError("interface must be one of %s, not %r" % (", ".join(INTERFACES), interface))
    if interface == ASGI:
        return ASGI
    detected = ASGI if is_asgi(app) else WSGI
    if interface == WSGI and detected == ASGI:
        raise AppLoadError(
            "APP_INTERFACE_MISMATCH",
            "portico: --interface wsgi, but the application %r is an ASGI application "
            "(an async callable); use --interface asgi or auto" % (app,))
    return detected
