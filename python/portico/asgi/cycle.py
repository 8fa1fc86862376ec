"""What the HTTP and the WebSocket cycles share (http_cycle.py,
websocket_cycle.py): one call of the application, and exactly one terminal
call of the transport on every way out of it: its return, its exception,
the request's cancellation (--timeout), and the worker going away.

ASGI 3.0, "Applications": the application is a single call that returns
when the connection is done with; whatever it leaves unfinished is the
server's to end.
"""
from __future__ import annotations

import asyncio
import sys

from .errors import ASGIViolation, ClientDisconnected
from .report import error_text, violation_text

# Outcomes, once the transport had its terminal call.
FINISHED = "finished"  # finish(): later messages are ignored (www spec, "Response Body")
ABORTED = "aborted"    # finish(abort=True) for a broken or abandoned response
FAILED = "failed"      # fail(500)


async def run_cycle(cycle_class, make_scope, app, head, transport, state, extensions, log):
    """Builds the scope for ``head`` (if that fails, the client gets 500:
    the application never ran), then runs ``app`` in one cycle of
    ``cycle_class``; returns the cycle."""
    try:
        scope = make_scope(head, state, extensions)
    except Exception:
        import traceback  # see report.error_text
        transport.fail(500, "portico: could not build the ASGI scope\n" + traceback.format_exc())
        raise
    cycle = cycle_class(scope, transport, log)
    await cycle.run(app)
    return cycle


class Cycle:
    """The scaffold; a subclass says what a return (_returned) and an
    exception (_raised) mean for its scope. Made inside the running event
    loop."""

    def __init__(self, scope: dict, transport, log) -> None:
        self.scope = scope
        self.transport = transport
        self.log = log
        self.outcome = None             # FINISHED, ABORTED or FAILED once ended
        self.violation = None           # the first protocol violation the application made
        self._gone = False              # the transport said ClientDisconnected
        self._settled = asyncio.Event()  # over (or, for a WebSocket, answered): wakes a waiting receive()

    async def run(self, app) -> None:
        """Calls ``app`` once and gives the transport its terminal call."""
        try:
            await app(self.scope, self.receive, self.send)
        except asyncio.CancelledError:
            # --timeout (the front answered the client itself), or the
            # worker stopping: the stream only has to end.
            if self.outcome is None:
                self._end(ABORTED, True)
            raise
        except Exception:
            self._raised(sys.exc_info())
        except BaseException:
            if self.outcome is None:
                self._end(ABORTED, True)
            raise
        else:
            self._returned()

    async def receive(self) -> dict:
        raise NotImplementedError

    async def send(self, message) -> None:
        """One message from the application. The subclass's _refused()
        says first whether it can still go out; then _dispatch() sends it.
        The first violation is remembered, and a ClientDisconnected from
        the transport marks the client gone."""
        if self._refused(message):
            return
        try:
            await self._dispatch(message)
        except ASGIViolation as exc:
            if self.violation is None:
                self.violation = str(exc)
            raise
        except ClientDisconnected:
            self._gone = True
            raise

    def _refused(self, message) -> bool:
        """Raises when ``message`` cannot go out any more; True when it is
        to be ignored; False when it goes on to _dispatch()."""
        raise NotImplementedError

    async def _dispatch(self, message) -> None:
        raise NotImplementedError

    def _refuse_after_violation(self) -> None:
        if self.violation is not None:
            # Remembered: an application that caught the violation and
            # carried on must still not get anything out.
            raise ASGIViolation(self.violation)

    def _raised(self, error) -> None:
        raise NotImplementedError

    def _returned(self) -> None:
        raise NotImplementedError

    def _broken_text(self, error) -> str:
        """The log text for an exception, after the violation that caused it, if any."""
        text = error_text(self.scope, error)
        if self.violation is not None and not isinstance(error[1], ASGIViolation):
            text = violation_text(self.scope, self.violation) + "\n" + text
        return text

    def _fail(self, text: str) -> None:
        """Nothing went out: the client gets 500, the front logs ``text``."""
        self.outcome = FAILED
        self._settled.set()
        self.transport.fail(500, text)

    def _end(self, outcome: str, abort: bool) -> None:
        self.outcome = outcome
        self._settled.set()
        self.transport.finish(abort)
