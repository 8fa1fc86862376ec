"""The asyncio request loop: an ASGI worker runs every request as a task of
one event loop (uvloop's when the interpreter can import it).

The frames, their codec and flow control are the WSGI workers' own
(asgi_link.py is a FrameLink); what differs is who waits. The loop reads fd
3 itself (add_reader), never from a thread, and each REQUEST becomes a task
running asgi.http_cycle.run_http over an AsgiStreamTransport, or, for a
REQUEST with WEBSOCKET, asgi.websocket_cycle.run_websocket over an
AsgiWebSocketTransport (asgi_websocket.py):

    REQUEST      STARTED, flushed, then the task is created
    CANCEL       the client left: receive() says http.disconnect, send()
                 raises ClientDisconnected; the task goes on to its end.
                 With TIMED_OUT (the front answered 504): the task is
                 cancelled. Either way the stream ends RESPONSE_END(ABORT).
    PING         PONG, from the loop (asgi_link.py)
    STOP         no new REQUEST; once the running tasks are done (an open
                 WebSocket's too: the front closes it, 1012 or 1001, and
                 its application returns), lifespan shutdown, the output
                 flushed, and serve() returns
    end of fd 3  every task cancelled; serve() raises ChannelClosed

Lifespan startup runs on the loop before READY (``boot``), shutdown after
the last request. SIGUSR1 adds every task's stack to faulthandler's dump
(task_dump.py).
"""
from __future__ import annotations

import asyncio
import functools
import sys

from .asgi.http_cycle import run_http
from .asgi.lifespan import Lifespan
from .asgi.report import stderr_log
from .asgi.websocket_cycle import run_websocket
from .asgi_link import AsgiFrameLink
from .asgi_stream import AsgiStreamTransport
from .asgi_websocket import AsgiWebSocketTransport
from .codec import STARTED
from .errors import ChannelClosed, ChannelCorrupt
from .stream import WebSocketStream
from .task_dump import install_task_dump

# How long the tasks a dying worker cancels (end of fd 3, SIGTERM) get to
# run their finally blocks before the loop is closed under them.
CANCEL_GRACE = 2.0


def new_event_loop():
    """(loop, name): uvloop's loop if this interpreter can import uvloop,
    else asyncio's default. Called in the process that serves, after any
    fork: a loop does not survive one (--preload forks the workers)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop(), "asyncio"
    return uvloop.new_event_loop(), "uvloop"


class AsgiApplication:
    """What the ASGI loop runs: the application and its lifespan (the
    "executor" of interfaces.py)."""

    def __init__(self, app, lifespan_mode: str = "auto", log=stderr_log) -> None:
        self.app = app
        self.log = log
        self.lifespan = Lifespan(app, lifespan_mode, log)


class AsgiLoop:
    def __init__(self, sock, log=stderr_log) -> None:
        self.loop, self.loop_name = new_event_loop()
        self.log = log
        sock.setblocking(False)
        self.link = AsgiFrameLink(sock, self.loop)
        self.link.on_lost = self._lost
        self.tasks = set()
        self._app = None
        self._over = None  # future: serving is over (None) or failed (its exception)
        self.log("debug", "portico: ASGI worker on the %s event loop" % self.loop_name)

    # -------------------------------------------------------- lifecycle

    def boot(self, app: AsgiApplication) -> None:
        """Lifespan startup, before READY. LifespanFailed (an
        AppLoadError) is a boot error, reported as an import error is."""
        asyncio.set_event_loop(self.loop)
        install_task_dump(self.loop)
        try:
            self.loop.run_until_complete(app.lifespan.startup())
        except BaseException:
            # The worker exits: what the lifespan scope left running goes
            # quietly, not as "Task was destroyed but it is pending".
            self._cancel_everything()
            self.loop.close()
            raise

    def serve(self, app: AsgiApplication) -> None:
        """Serves requests until STOP and its drain, then runs lifespan
        shutdown and flushes. Raises ChannelClosed at the end of fd 3,
        ChannelCorrupt for a broken frame."""
        self._app = app
        loop = self.loop
        try:
            main = loop.create_task(self._serve(app))
            main.set_name("portico: the channel")
            loop.run_until_complete(main)
        except BaseException:
            # SystemExit (SIGTERM) lands wherever the loop was: the tasks
            # still unwind, so their finally blocks run, as a WSGI
            # request's iterable is still closed.
            self._cancel_everything()
            raise
        finally:
            try:
                self.link.flush_blocking()
            except ChannelClosed:
                pass
            loop.close()

    async def _serve(self, app: AsgiApplication) -> None:
        loop = self.loop
        self._over = loop.create_future()
        loop.add_reader(self.link.fd, self._on_readable)
        try:
            # Frames may already wait in the socket, and the check for a
            # drain after STOP runs only as frames come.
            self._on_readable()
            try:
                await self._over
            except BaseException:
                await self._cancel_tasks()
                raise
            # Still reading: PINGs are answered during the shutdown too.
            await app.lifespan.shutdown()
        finally:
            loop.remove_reader(self.link.fd)

    def _end(self, exc=None) -> None:
        over = self._over
        if over is not None and not over.done():
            if exc is None:
                over.set_result(None)
            else:
                over.set_exception(exc)

    def _lost(self, exc: Exception) -> None:
        self._end(ChannelClosed())

    async def _cancel_tasks(self) -> None:
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=CANCEL_GRACE)

    def _cancel_everything(self) -> None:
        loop = self.loop
        if loop.is_closed() or loop.is_running():
            return
        tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            try:
                loop.run_until_complete(asyncio.wait(tasks, timeout=CANCEL_GRACE))
            except BaseException:
                pass

    # ----------------------------------------------------------- frames

    def _on_readable(self) -> None:
        link = self.link
        try:
            link.read(block=False)
        except (ChannelClosed, ChannelCorrupt) as exc:
            self._end(exc)
            return
        if link.pending:
            self._start_requests()
        if link.stopping and not self.tasks:
            self._end()

    def _start_requests(self) -> None:
        link = self.link
        pending = link.pending
        streams = []
        while pending:
            stream = pending.popleft()
            link.send(STARTED, 0, stream.id)
            streams.append(stream)
        # docs/protocol.md: STARTED is out before the application runs on
        # the request (the front's --timeout runs from it).
        link.flush()
        create_task = self.loop.create_task
        app = self._app
        for stream in streams:
            if type(stream) is WebSocketStream:
                transport = AsgiWebSocketTransport(link, stream)
            else:
                transport = AsgiStreamTransport(link, stream)
            link.requests[stream.id] = transport
            task = create_task(self._run(app, transport))
            # Named after the request for the SIGUSR1 dump; set_name, not
            # create_task's name=, which an older uvloop does not take.
            task.set_name(_task_name(stream))
            transport.task = task
            self.tasks.add(task)
            task.add_done_callback(functools.partial(self._request_done, transport))

    async def _run(self, app: AsgiApplication, transport: AsgiStreamTransport) -> None:
        stream = transport.stream
        if stream.cancelled:
            # CANCEL came with the REQUEST: nobody waits for an answer.
            transport.finish(True)
            return
        if stream.head is None:
            transport.fail(500, "portico: stream %d reached the ASGI worker without a request "
                                "head (REQUEST without HAS_HEAD)" % stream.id)
            return
        if type(stream) is WebSocketStream:
            await run_websocket(app.app, stream.head, transport, state=app.lifespan.state, log=app.log)
        else:
            await run_http(app.app, stream.head, transport, state=app.lifespan.state, log=app.log)

    def _request_done(self, transport: AsgiStreamTransport, task) -> None:
        link = self.link
        self.tasks.discard(task)
        link.requests.pop(transport.stream.id, None)
        link.forget(transport.stream)
        if not task.cancelled():
            exc = task.exception()
            if exc is not None and isinstance(exc, Exception):
                # run_http reports the application's errors itself; what
                # escapes it is portico's own bug. Log it, end the stream.
                import traceback  # see stream_transport.run_request
                text = "portico: internal error on stream %d\n%s" % (
                    transport.stream.id, "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
                sys.stderr.write(text)
                transport.fail(500, text)
        # Cancelled before it ever ran (TIMED_OUT at once): the stream
        # still ends, though the front has closed it already.
        transport.finish(True)
        if link.stopping and not self.tasks:
            self._end()


def _task_name(stream) -> str:
    """What the SIGUSR1 dump calls a request's task (task_dump.py)."""
    head = stream.head
    if head is None:
        return "portico stream %d" % stream.id
    method = "WebSocket" if type(stream) is WebSocketStream else head.method
    return "portico stream %d: %s %s" % (stream.id, method, head.path[:200].decode("latin-1"))
