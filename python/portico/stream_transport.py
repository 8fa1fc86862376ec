"""One request over the frame link, for a request loop whose requests block.

``run_request`` is what the inline and the thread-pool loops do with each
stream the front opens; ``StreamTransport`` is the transport (transport.py)
the executor gets for it: its calls become the stream's frames.
"""
from __future__ import annotations

import sys

from .codec import ABORT, ERROR, FILE, RESPONSE_END, RESPONSE_HEAD, STARTED
from .codec import encode_error, encode_file, encode_response_head, fit_text
from .errors import ClientDisconnected
from .input import RequestInput


def run_request(link, stream, executor) -> None:
    """Runs the executor for one stream, and forgets the stream after."""
    transport = StreamTransport(link, stream)
    transport.send_started()
    # frame_link.py: nothing finished waits on the application.
    link.flush()
    try:
        if stream.cancelled:
            # CANCEL came while the request waited its turn.
            transport.finish(abort=True)
        else:
            executor.handle(stream.environ, transport)
    except Exception:
        # handle() reports the application's errors itself; whatever
        # escapes it is a bug in portico. Log it, end the stream, go on.
        import traceback  # loaded on the first error: it costs every worker ~0.6 MiB
        text = "portico: internal error on stream %d\n%s" % (stream.id, traceback.format_exc())
        sys.stderr.write(text)
        if not transport.done:
            transport.fail(500, text)
    finally:
        link.forget(stream)


class StreamTransport:
    """The executor's transport for one stream of a FrameLink."""

    __slots__ = ("_link", "_stream", "_id", "input", "done")

    def __init__(self, link, stream) -> None:
        self._link = link
        self._stream = stream
        self._id = stream.id
        self.input = RequestInput(stream, link)
        self.done = False

    @property
    def cancelled(self) -> bool:
        return self._stream.cancelled

    def send_started(self) -> None:
        self._link.send(STARTED, 0, self._id)

    def send_head(self, code: int, reason: str, headers) -> None:
        if self._stream.cancelled:
            raise ClientDisconnected("client disconnected")
        self._link.send(RESPONSE_HEAD, 0, self._id, encode_response_head(code, reason, headers))

    def send_body(self, data: bytes, flush: bool) -> None:
        self._link.send_body(self._stream, data, flush)

    def send_file(self, path: bytes, offset: int, length) -> None:
        if self._stream.cancelled:
            raise ClientDisconnected("client disconnected")
        self._link.send(FILE, 0, self._id, encode_file(offset, length, path))

    def finish(self, abort: bool = False) -> None:
        self.done = True
        self._link.send(RESPONSE_END, ABORT if abort else 0, self._id)

    def fail(self, status: int, text: str) -> None:
        self.done = True
        self._link.send(ERROR, 0, self._id, encode_error(status, fit_text(text)))
