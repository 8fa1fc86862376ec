"""What an executor talks to: the transport of one request.

As in wsgiref.handlers.BaseHandler, the executor implements the interface
(PEP 3333) and leaves the transport abstract, so it knows nothing of fd 3 or
frames: stream_transport.StreamTransport carries a request over the frame
link, and the tests use an in-memory one (test/python/support.py). The
executor does not import this module; it is the contract, for readers,
type checkers and the tests.
"""
from __future__ import annotations

from typing import Optional, Protocol, Sequence, Tuple, runtime_checkable


@runtime_checkable
class Transport(Protocol):
    """One request's bytes in and out. After ``finish`` or ``fail`` nothing
    more may be sent."""

    #: The request body, a file-like object (PEP 3333 "Input and Error
    #: Streams"); it raises ClientDisconnected when the body was cut short.
    input: object

    @property
    def cancelled(self) -> bool:
        """True once the client is gone (CANCEL)."""

    def send_head(self, code: int, reason: str, headers: Sequence[Tuple[str, str]]) -> None:
        """The response's status and header fields, latin-1 str (PEP 3333
        "Unicode Issues"). Raises ClientDisconnected once the client is gone."""

    def send_body(self, data: bytes, flush: bool) -> None:
        """Response body bytes. ``flush``: a chunk of a streaming response,
        to be pushed out now (PEP 3333 "Buffering and Streaming"). Raises
        ClientDisconnected once the client is gone."""

    def send_file(self, path: bytes, offset: int, length: Optional[int]) -> None:
        """A region of a named file the front sends itself; ``length`` None
        runs to the end of the file."""

    def finish(self, abort: bool = False) -> None:
        """The response is complete. ``abort``: it is broken, and the
        connection must carry no other."""

    def fail(self, status: int, text: str) -> None:
        """The request failed: the front answers ``status`` if no head went
        out, and logs ``text``."""
