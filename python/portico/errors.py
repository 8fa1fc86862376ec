"""Every error the worker raises on purpose, each with a stable ``code``.

The codes are API: the tests assert on them, and the texts that reach the
front (ERROR and BOOT_ERROR frames) are built from them.
"""
from __future__ import annotations


class PorticoError(Exception):
    """Base of the worker's own errors."""

    code = "PORTICO_ERROR"


class FrameError(PorticoError):
    """A frame broke the channel contract (docs/protocol.md): unknown type,
    payload over MAX_PAYLOAD, a malformed payload. The channel cannot be
    trusted after this, so the worker exits."""

    code = "FRAME_INVALID"


class WSGIViolation(PorticoError):
    """The application broke PEP 3333 (bad status or header, start_response
    misuse, a body that is not an iterable of bytes)."""

    code = "WSGI_PROTOCOL_VIOLATION"


class AppLoadError(PorticoError):
    """The application could not be loaded. ``text`` is the whole report
    sent in BOOT_ERROR: the traceback, then a one-line hint."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


class ClientDisconnected(PorticoError, OSError):
    """The client went away: raised by wsgi.input when the body was cut short
    (REQUEST_END with ABORTED), and by write() after a CANCEL. An OSError,
    as a socket server would raise, so apps that guard I/O already cope."""

    code = "CLIENT_DISCONNECTED"


class ChannelClosed(BaseException):
    """fd 3 reached EOF or broke: the front is gone and nobody is left to
    answer. A BaseException so an app's ``except Exception`` around
    wsgi.input.read() cannot swallow it; the worker exits quietly."""

    code = "CHANNEL_CLOSED"


class ChannelCorrupt(BaseException):
    """The front broke the frame protocol (a FrameError while reading fd 3).
    Like ChannelClosed it must not be mistaken for an application error,
    even when raised inside wsgi.input.read(): the worker exits."""

    code = "CHANNEL_CORRUPT"
