"""The ASGI core's own errors, in the worker's one hierarchy (errors.py).

Their ``code`` is API, as for every PorticoError: the tests assert on it.
"""
from __future__ import annotations

from ..errors import AppLoadError, ClientDisconnected, PorticoError

__all__ = ["ASGIViolation", "ClientDisconnected", "LifespanFailed", "MessageTooLarge"]


class ASGIViolation(PorticoError):
    """The application broke the ASGI HTTP message format (a message out of
    order or of an unknown type, a bad status or header, a body that is not
    bytes). Raised into the application from send(), so it surfaces where the
    bug is; the response is then never sent as the application gave it."""

    code = "ASGI_PROTOCOL_VIOLATION"


class MessageTooLarge(PorticoError, ValueError):
    """A websocket.send message larger than one frame carries (the
    transport's ``max_message``, 16 MiB): raised into the application from
    send(); the connection goes on if the application catches it."""

    code = "ASGI_MESSAGE_TOO_LARGE"


class LifespanFailed(AppLoadError):
    """The application's lifespan startup failed: it sent
    ``lifespan.startup.failed``, or raised while starting up, or (with
    --lifespan on) does not speak the lifespan protocol at all.

    An AppLoadError, so the worker reports it exactly like an application
    that cannot be imported: BOOT_ERROR with ``text``, then exit status 4,
    and the front does not respawn it (lifespan spec, "Startup Failed": the
    server should log the message and exit). ``message`` is what the
    application said (lifespan.startup.failed's ``message``, or the
    exception's last line), ``traceback`` the formatted traceback or ""."""

    def __init__(self, code: str, message: str, traceback: str, hint: str) -> None:
        self.message = message
        self.traceback = traceback
        text = traceback + hint if traceback else hint
        super().__init__(code, text)
