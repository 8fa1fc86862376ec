"""The ASGI lifespan protocol for one worker's event loop: startup before
the first request, shutdown after the last.

Lifespan spec 2.0. ``--lifespan`` (uvicorn's choice of names):
    auto  talk lifespan if the application does; one that raises on the
          lifespan scope before taking lifespan.startup (Django's
          ASGIHandler does), or returns without answering it, does not,
          and the worker carries on without (spec, "Scope"), logging one
          debug line;
    on    the application must answer; anything else is a boot error;
    off   no lifespan scope at all.
lifespan.startup.failed, or an exception raised after the application took
lifespan.startup, is a boot error in both auto and on: the spec's server
"should log/print the message provided and then exit", and the worker
does so as for an application that cannot be imported (LifespanFailed).
"""
from __future__ import annotations

import asyncio
import sys

from .errors import ASGIViolation, LifespanFailed
from .report import app_traceback, stderr_log
from .scope import ASGI_VERSION

AUTO = "auto"
ON = "on"
OFF = "off"
MODES = (AUTO, ON, OFF)

LIFESPAN_SPEC_VERSION = "2.0"

# What a phase's wait ends with: the application's answer, or its call ending.
_COMPLETE = "complete"
_FAILED = "failed"
_RAISED = "raised"
_RETURNED = "returned"


class Lifespan:
    """Runs the application's lifespan scope as a task of the running loop.

    ``state`` is the namespace given in the scope (spec, "Lifespan State");
    http_scope() gives each request a shallow copy of it. ``supported`` is
    True once startup completed, and False when the worker goes on without
    lifespan (off, or auto with an application that does not speak it)."""

    def __init__(self, app, mode: str = AUTO, log=stderr_log) -> None:
        if mode not in MODES:
            raise ValueError("lifespan mode must be one of %s, not %r" % (", ".join(MODES), mode))
        self.app = app
        self.mode = mode
        self.log = log
        self.state = {}
        self.supported = False
        self._task = None
        self._events = None      # asyncio.Queue of what receive() hands out
        self._answer = None      # future: (what, message or exc_info) for the current phase
        self._phase = None       # "startup", "running", "shutdown", then "over"
        self._took_startup = False

    async def startup(self) -> None:
        """Returns once the application completed its startup, or the worker
        is to go on without lifespan; raises LifespanFailed otherwise."""
        if self.mode == OFF:
            return
        loop = asyncio.get_running_loop()
        self._events = asyncio.Queue()
        scope = {
            "type": "lifespan",
            "asgi": {"version": ASGI_VERSION, "spec_version": LIFESPAN_SPEC_VERSION},
            "state": self.state,
        }
        what, detail = await self._phase_answer("startup", {"type": "lifespan.startup"},
                                                lambda: loop.create_task(self._main(scope)))
        if what == _COMPLETE:
            self.supported = True
            return
        self._phase = "over"
        if what == _FAILED:
            raise LifespanFailed("ASGI_LIFESPAN_STARTUP_FAILED", detail, "",
                                 "portico: the ASGI application's lifespan startup failed "
                                 "(lifespan.startup.failed)%s" % (": " + detail if detail else ""))
        if what == _RAISED and self._took_startup:
            raise LifespanFailed("ASGI_LIFESPAN_STARTUP_ERROR", _exc_line(detail), _format(detail),
                                 "portico: the ASGI application raised %s during its lifespan startup"
                                 % _exc_line(detail))
        how = ("raised %s" % _exc_line(detail) if what == _RAISED
               else "returned without answering lifespan.startup")
        if self.mode == ON:
            raise LifespanFailed("ASGI_LIFESPAN_UNSUPPORTED", how, _format(detail) if what == _RAISED else "",
                                 "portico: --asgi-lifespan on, but the ASGI application %s on the lifespan "
                                 "scope; use --asgi-lifespan auto or off if it does not support lifespan" % how)
        self.log("debug", "portico: the ASGI application does not support lifespan (it %s); "
                          "carrying on without it" % how)

    async def shutdown(self) -> None:
        """Tells the application to shut down and waits for its answer. A
        failure is logged, not raised: the worker is exiting either way."""
        if not self.supported or self._task is None or self._task.done():
            return
        what, detail = await self._phase_answer("shutdown", {"type": "lifespan.shutdown"}, None)
        self.supported = False
        if what == _FAILED:
            self.log("error", "portico: the ASGI application's lifespan shutdown failed "
                              "(lifespan.shutdown.failed)%s" % (": " + detail if detail else ""))
        elif what == _RAISED:
            self.log("error", "%sportico: the ASGI application raised %s during its lifespan shutdown"
                     % (_format(detail), _exc_line(detail)))
        elif what == _RETURNED:
            self.log("debug", "portico: the ASGI application returned from the lifespan scope "
                              "without answering lifespan.shutdown")

    async def _phase_answer(self, phase: str, event: dict, start):
        self._phase = phase
        self._answer = asyncio.get_running_loop().create_future()
        self._events.put_nowait(event)
        if start is not None:
            self._task = start()
        return await self._answer

    async def _main(self, scope: dict) -> None:
        try:
            await self.app(scope, self._receive, self._send)
        except Exception:
            error = sys.exc_info()
            if not self._resolve(_RAISED, error) and self._phase == "running":
                # Between startup and shutdown nobody waits on the task; an
                # exception after a phase's answer (Starlette re-raises
                # after lifespan.startup.failed) was reported with it.
                self.log("error", "%sportico: the ASGI application's lifespan scope raised %s"
                         % (_format(error), _exc_line(error)))
        except BaseException:
            self._resolve(_RAISED, sys.exc_info())
            raise
        else:
            self._resolve(_RETURNED, None)

    def _resolve(self, what: str, detail) -> bool:
        if self._answer is None or self._answer.done():
            return False
        self._answer.set_result((what, detail))
        return True

    async def _receive(self) -> dict:
        # Between startup and shutdown this waits: the spec's application
        # loops on receive() for the whole life of the loop.
        event = await self._events.get()
        if event["type"] == "lifespan.startup":
            self._took_startup = True
        return event

    async def _send(self, message) -> None:
        try:
            kind = message["type"]
        except (TypeError, KeyError, IndexError):
            raise ASGIViolation("lifespan send() was given a %s, expected a message dict with a 'type'"
                                % type(message).__name__) from None
        phase = self._phase
        if kind in ("lifespan.startup.complete", "lifespan.startup.failed") and phase == "startup" \
                or kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed") and phase == "shutdown":
            # The phase moves on before the waiting startup()/shutdown()
            # resumes: the application may already raise in between.
            if kind.endswith(".failed"):
                self._phase = "over"
                text = message.get("message", "")
                self._resolve(_FAILED, text if isinstance(text, str) else repr(text))
            else:
                self._phase = "running" if phase == "startup" else "over"
                self._resolve(_COMPLETE, None)
            return
        raise ASGIViolation("unexpected lifespan message %r during %s" % (kind, phase))


def _exc_line(error) -> str:
    import traceback  # only failures need it (report.error_text)
    return traceback.format_exception_only(*error[:2])[-1].strip()


def _format(error) -> str:
    return app_traceback(error)
