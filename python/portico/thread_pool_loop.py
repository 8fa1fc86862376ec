"""The thread-pool request loop (--threads n > 1, wsgi.multithread).

One reader thread owns the receiving side of fd 3 and dispatches every frame
under the link's lock, then wakes whoever waits (a request thread waiting
for body bytes or window credit, an idle pool thread waiting for a REQUEST).
Request threads never read the socket; they append frames to the shared
buffer under the lock and flush it by the same rules as the inline loop.
The main thread only waits for the end (STOP drained, or EOF), so signals
such as SIGTERM are still delivered where Python can act on them.

The inline loop's FrameLink stays free of all of this: its lock is a no-op.
"""
from __future__ import annotations

import threading

from .codec import frame_header
from .errors import ChannelClosed, ChannelCorrupt
from .frame_link import FLUSH_THRESHOLD, HOLD_LIMIT, FrameLink
from .frame_output import FrameOutput
from .stream_transport import run_request


class ThreadSafeFrameLink(FrameLink):
    """A FrameLink whose output buffer and stream table several threads share."""

    def __init__(self, sock) -> None:
        super().__init__(sock)
        self.lock = threading.Lock()
        # Held across the write so buffers swapped out by different threads
        # still reach the socket in the order they were filled.
        self._send_lock = threading.Lock()

    def send(self, ftype: int, flags: int, stream_id: int, payload=b"") -> None:
        header = frame_header(ftype, flags, stream_id, len(payload))
        with self.lock:
            out = self._out
            out.add(header, payload)
            full = out.copied >= FLUSH_THRESHOLD or out.size >= HOLD_LIMIT
        if full:
            self.flush()

    def flush(self) -> None:
        with self._send_lock:
            with self.lock:
                if not self._out:
                    return
                out = self._out
                self._out = FrameOutput()
            try:
                out.write_all(self.sock)
            except OSError as exc:
                raise ChannelClosed() from exc

    def forget(self, stream) -> None:
        with self.lock:
            self._streams.pop(stream.id, None)

    def read(self, block: bool = True) -> None:
        raise RuntimeError("only the reader thread reads a ThreadSafeFrameLink")


class ThreadPoolLoop:
    def __init__(self, sock, threads: int) -> None:
        self.link = ThreadSafeFrameLink(sock)
        self.link.waiter = self
        self.threads = threads
        self._cond = threading.Condition(self.link.lock)
        self._active = 0
        self._closed = False
        self._failure = None
        self._executor = None

    def serve(self, executor) -> None:
        self._executor = executor
        threading.Thread(target=self._read_loop, name="portico-reader", daemon=True).start()
        for index in range(self.threads):
            threading.Thread(target=self._work, name="portico-request-%d" % index, daemon=True).start()
        with self._cond:
            while not (self._closed or self._drained()):
                self._cond.wait()
            failure = self._failure
            drained = self._drained()
        if failure is not None:
            raise failure
        if not drained:
            raise ChannelClosed()
        self.link.flush()

    def wait(self, stream, ready) -> None:
        self.link.flush()
        with self._cond:
            while not ready():
                if self._closed:
                    raise ChannelClosed()
                self._cond.wait()

    def poll(self) -> None:
        """The reader thread dispatches continuously: nothing to do."""

    def _drained(self) -> bool:
        return self.link.stopping and not self.link.pending and self._active == 0

    def _work(self) -> None:
        link = self.link
        pending = link.pending
        while True:
            with self._cond:
                while not pending:
                    if self._closed or self._drained():
                        return
                    self._cond.wait()
                stream = pending.popleft()
                self._active += 1
            try:
                run_request(link, stream, self._executor)
                with self._cond:
                    more = bool(pending)
                if not more:
                    link.flush()
            except ChannelClosed:
                return
            except BaseException as exc:
                # SystemExit from the application: inline it would end the
                # process, so it does here too, from the main thread (the
                # front then fails this request as its worker is lost).
                with self._cond:
                    if self._failure is None:
                        self._failure = exc
                    self._closed = True
                    self._cond.notify_all()
                return
            finally:
                with self._cond:
                    self._active -= 1
                    self._cond.notify_all()

    def _read_loop(self) -> None:
        link = self.link
        try:
            while link.receive():
                with self._cond:
                    link.dispatch_received()
                    self._cond.notify_all()
                    pong = link.pong_due
                    link.pong_due = False
                if pong:
                    link.flush()
        except ChannelCorrupt as exc:
            self._failure = exc
        except (OSError, ChannelClosed):
            pass
        finally:
            with self._cond:
                self._closed = True
                self._cond.notify_all()
