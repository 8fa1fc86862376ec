"""The response side of one WSGI request: start_response, write, and sending
the returned iterable (PEP 3333), over the executor's transport.
"""
from __future__ import annotations

import sys

from .codec import MAX_CHUNK
from .error_reports import request_uri
from .errors import WSGIViolation
from .file_wrapper import FileWrapper, sendable_file
from .response_checks import check_headers, check_status
from .rfc9110 import NO_CONTENT_STATUS


class Response:
    """The response side of one request: start_response, write, and sending
    the returned iterable."""

    __slots__ = (
        "environ", "transport", "code", "reason", "headers", "head_sent",
        "used_write", "declared", "remaining", "violation", "incomplete", "overflowed", "file",
    )

    def __init__(self, environ: dict, transport) -> None:
        self.environ = environ
        self.transport = transport
        self.code = None        # None until start_response succeeded
        self.reason = ""
        self.headers = None
        self.head_sent = False
        self.used_write = False
        # The application's Content-Length, and the body bytes still owed under it; or None.
        self.declared = None
        self.remaining = None
        self.violation = None
        self.incomplete = False
        # More body than the Content-Length: cut there, and the connection closed.
        self.overflowed = False
        # (SendableFile, length) put aside by _send_file until close() has run.
        self.file = None

    # ------------------------------------------------ PEP 3333 callables

    def start_response(self, status, headers, exc_info=None):
        if exc_info:
            try:
                if self.head_sent:
                    # PEP 3333 "The start_response() Callable": too late to
                    # change the status; re-raise so the error surfaces (the
                    # front then aborts the connection).
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None  # PEP 3333: avoid a traceback <-> frame cycle
        elif self.code is not None:
            self._violate("start_response was called a second time without exc_info")
        try:
            code, reason = check_status(status)
            headers, declared = check_headers(headers)
        except WSGIViolation as exc:
            self._remember(str(exc))
            raise
        self.code = code
        self.reason = reason
        self.headers = headers
        self.declared = declared
        self.remaining = declared
        return self.write

    def write(self, data) -> None:
        # PEP 3333 "The write() Callable": the imperative API for legacy
        # applications. Its data must go out before write() returns or be
        # buffered for transmission, so it is flushed like a streamed chunk.
        if not isinstance(data, bytes):
            self._violate("write() was given a %s, expected bytes" % type(data).__name__)
        self.used_write = True
        if data:
            self._send(data, True)

    # ----------------------------------------------- the returned iterable

    def send_result(self, result) -> None:
        if isinstance(result, (list, tuple)):
            self._send_sequence(result)
        elif type(result) is FileWrapper and self._send_file(result):
            pass
        else:
            self._send_iterable(result)
        self._complete()

    def _send_sequence(self, chunks) -> None:
        # The whole body is already in memory: no producer to wait for, so
        # no flush per chunk; the channel's batching decides.
        if self.code is None:
            raise WSGIViolation("start_response was not called")
        for chunk in chunks:
            if not isinstance(chunk, bytes):
                raise WSGIViolation("the response list holds a %s, expected bytes" % type(chunk).__name__)
        total = sum(map(len, chunks))
        if (not self.head_sent and not self.used_write and self.remaining is None
                and self.code not in NO_CONTENT_STATUS):
            # PEP 3333 "Handling the Content-Length Header": the length of a
            # body known up front can be computed (wsgiref does so for
            # one-element lists); it spares the front chunked encoding.
            self.headers.append(("Content-Length", str(total)))
            self.remaining = total
        if total == 0:
            return
        if len(chunks) == 1:
            self._send(chunks[0], False)
        elif total <= MAX_CHUNK:
            self._send(b"".join(chunks), False)
        else:
            for chunk in chunks:
                if chunk:
                    self._send(chunk, False)
                    if self.overflowed:
                        return

    def _send_iterable(self, result) -> None:
        if result is None:
            raise WSGIViolation("the application returned None, not an iterable of bytes")
        if isinstance(result, (str, bytes, bytearray)):
            # An iterable, technically, of characters or ints: always a bug
            # (wsgiref.validate rejects it too).
            raise WSGIViolation("the application returned a %s, not an iterable of bytes "
                                "(return [body] instead)" % type(result).__name__)
        if not (hasattr(result, "__iter__") or hasattr(result, "__getitem__")):
            raise WSGIViolation("the application returned a %s, which is not iterable"
                                % type(result).__name__)
        for chunk in result:
            if not isinstance(chunk, bytes):
                raise WSGIViolation("the response iterable yielded a %s, expected bytes"
                                    % type(chunk).__name__)
            # PEP 3333 "Buffering and Streaming": an empty chunk is not a
            # reason to send the headers yet.
            if chunk:
                self._send(chunk, True)
                if self.overflowed:
                    # The response is settled: whatever else the iterable
                    # would produce is dropped, so stop asking for it
                    # (close() still follows, PEP 3333).
                    return

    def _send_file(self, wrapper) -> bool:
        """Takes a real regular file for send_file(); False when the wrapper
        must be iterated instead (PEP 3333 "Optional Platform-Specific File
        Handling")."""
        if self.code is None:
            return False
        found = sendable_file(wrapper)
        if found is None:
            return False
        if self.remaining is None:
            length = None  # to EOF: the front finds the size when it opens the file
        else:
            length = min(max(0, found.size - found.offset), self.remaining)
            self.remaining -= length
        self.file = (found, length)
        if not self.head_sent:
            self._send_head()
        return True

    def send_file(self) -> None:
        """Sends the file _send_file took, once the iterable's close() has run.

        The front opens a FILE frame's path only after this worker has moved
        on, and PEP 3333 has close() run right after the response, so a
        close() that deletes the file (NamedTemporaryFile, as Flask's
        send_file gets it) or puts another at its path would leave the
        front nothing, or the wrong file, to send. So the frame names the
        path only if it still leads to the application's file; otherwise the
        worker sends the region itself, read from its own descriptor. (A
        front that acknowledged FILE before close() ran would keep such
        files off this worker too; the channel has no such frame yet.)
        """
        found, length = self.file
        if found.still_named():
            self.transport.send_file(found.path, found.offset, length)
        elif self._carries_body():
            for block in found.blocks(length, MAX_CHUNK):
                self.transport.send_body(block, False)

    def release_file(self) -> None:
        found, _ = self.file
        self.file = None
        found.close()

    def _complete(self) -> None:
        if not self.head_sent:
            # PEP 3333: with an empty body the headers go out at the end.
            if self.code is None:
                raise WSGIViolation("start_response was not called")
            self._send_head()
        if self.remaining and self._carries_body():
            # PEP 3333 "Handling the Content-Length Header": too little data
            # for the stated length; the connection must be closed.
            self.incomplete = True
            self._warn("sent %d bytes less than its Content-Length; the connection is aborted"
                       % self.remaining)

    # --------------------------------------------------------- sending

    def _send(self, data: bytes, flush: bool) -> None:
        if not self.head_sent:
            if self.code is None:
                raise WSGIViolation("start_response was not called before the first body chunk")
            self._send_head()
        remaining = self.remaining
        if remaining is not None:
            if len(data) > remaining:
                self._overflow()
                data = data[:remaining]
                if not data:
                    return
            self.remaining = remaining - len(data)
        self.transport.send_body(data, flush)

    def _overflow(self) -> None:
        # PEP 3333 "Handling the Content-Length Header": never more than the
        # declared length. The client gets the declared bytes and cannot
        # tell the response was cut, so the connection must not carry
        # another: finish() sends ABORT, and the front closes it once
        # those bytes are out.
        if self.overflowed or not self._carries_body():
            return
        self.overflowed = True
        self._warn("sent more than its Content-Length of %d bytes; the response was cut there "
                   "and the connection closed" % self.declared)

    def _carries_body(self) -> bool:
        # RFC 9110 9.3.2, 6.4.1: HEAD, 1xx, 204 and 304 responses have no
        # body; the front sends none of what the application gives.
        return self.code not in NO_CONTENT_STATUS and self.environ.get("REQUEST_METHOD") != "HEAD"

    def _send_head(self) -> None:
        if self.violation is not None:
            # A start_response call failed and the application carried on:
            # nothing of this response may go out.
            raise WSGIViolation(self.violation)
        self.head_sent = True
        self.transport.send_head(self.code, self.reason, self.headers)

    def _warn(self, what: str) -> None:
        sys.stderr.write("portico: %s %s: the application %s\n"
                         % (self.environ.get("REQUEST_METHOD", "?"), request_uri(self.environ), what))

    # ------------------------------------------------------ validation

    def _violate(self, message: str):
        self._remember(message)
        raise WSGIViolation(message)

    def _remember(self, message: str) -> None:
        # Remembered as well as raised: an application that catches the
        # error must not get a malformed response out anyway.
        if self.violation is None:
            self.violation = message
