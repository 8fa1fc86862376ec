"""The worker process: boot, load the application, serve the channel.

The front starts it as
    <python> python/portico_worker.py '<json config>'
with cwd = the app's --chdir and fd 3 = the frame channel (docs/protocol.md).
The config is a JSON object, declared field by field in worker_config.py
and parsed once here: nothing per request is JSON. Its "interface" picks the
executor and the request loop from interfaces.py ("auto": by the
application). An ASGI worker runs lifespan startup before READY, and READY
carries the ASGI flag.

Stopping is the front's alone. SIGTERM and SIGINT may reach every process
of the tree at once (systemd's control-group stop, `kill -- -PGID`, a
terminal's Ctrl-C); the worker ignores them and serves on while the front
drains, and stops only at STOP, or when the front is gone: EOF on fd 3 where
a loop reads it, or else the channel watch (watch_channel), which sees the
hang-up even while a request keeps the worker busy.

Exit status: 0 after STOP or when the front is gone (EOF on fd 3), 2 when not
started by the front (no channel on fd 3), 3 when the front broke the frame
protocol, 4 when the application cannot be loaded or its ASGI lifespan
startup fails (after BOOT_ERROR), so the front stops respawning.
"""
from __future__ import annotations

import faulthandler
import os
import select
import signal
import socket
import sys
import threading
import time

from .errors import AppLoadError, ChannelClosed, ChannelCorrupt
from .frame_link import FrameLink
from .interfaces import capabilities, interface_for
from .loader import load_app
from .worker_config import WorkerConfig

CHANNEL_FD = 3
# Set by the front for a --preload zygote: the socket its forked workers connect to (zygote.py).
FORK_SOCKET_ENV = "PORTICO_FORK_SOCKET"
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_PROTOCOL_ERROR = 3
EXIT_BOOT_ERROR = 4
# SO_SNDBUF asked for on the worker's end of the channel (Linux doubles it,
# within net.core.wmem_max): the default ~208 KiB held two 100 KiB responses,
# so a worker ahead of the front slept in sendmsg and was woken for each
# one. A UNIX stream socket's writer is bounded by its own send buffer
# alone (the reader's SO_RCVBUF plays no part), so the front -> worker
# direction is the front's to size.
CHANNEL_SEND_BUFFER = 1024 * 1024
# Once the front is gone, how long the worker has to end by itself (an idle
# loop reads EOF at once; an ASGI loop cancels its tasks) before the channel
# watch ends it: well within the second in which no worker may outlive it.
ORPHAN_GRACE = 0.5


def configure_sys_path(pythonpath) -> None:
    """cwd first (as gunicorn does, so the app's own modules win), then the
    --pythonpath entries, relative ones taken from cwd, then the rest."""
    cwd = os.getcwd()
    front = [cwd] + [os.path.join(cwd, p) for p in pythonpath]
    rest = [p for p in sys.path if p not in front]
    sys.path[:] = front + rest


def install_boot_signals() -> None:
    # A stack dump on demand: the front sends SIGUSR1 to a worker stuck in
    # a request (or an import) before it resorts to SIGKILL, so the log
    # shows where.
    faulthandler.enable()
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    # SIGTERM and SIGINT reach the whole process group or cgroup at once
    # (systemctl stop, Ctrl-C); the front handles them and sends STOP once
    # its drain is over, so the worker finishes what it is doing, and what
    # the drain still brings, instead of dying. A handler that does nothing
    # rather than SIG_IGN: an ignored disposition would be inherited across
    # exec by the application's own subprocesses, whose terminate() would
    # then do nothing.
    signal.signal(signal.SIGTERM, _front_decides)
    signal.signal(signal.SIGINT, _front_decides)


def _front_decides(signum, frame):
    pass


def watch_channel(sock) -> None:
    """Ends this process ORPHAN_GRACE after the front's end of ``sock``
    hangs up, if it has not ended by itself. A loop notices EOF only when
    it reads the channel, and a worker busy in a long request, or an event
    loop blocked by synchronous code, does not: after a SIGKILL of the
    front nobody would ever read its answer. Not PR_SET_PDEATHSIG: a
    --preload worker's parent is the zygote, which a reload replaces while
    its workers serve on; the channel is what ties a worker to the front.
    One watch per process; a forked worker starts its own."""
    global _watched
    if _watched:
        return
    _watched = True
    threading.Thread(target=_await_hang_up, args=(sock.fileno(),), name="portico-channel-watch", daemon=True).start()


_watched = False


def _await_hang_up(fd: int) -> None:
    poller = select.poll()
    # No events asked for: POLLHUP (the peer closed), POLLERR and POLLNVAL
    # are always reported, and nothing the loop reads is consumed.
    poller.register(fd, 0)
    while not poller.poll():
        pass
    time.sleep(ORPHAN_GRACE)
    os._exit(EXIT_OK)


def main(argv=None) -> int:
    argv = sys.argv if argv is None else argv
    try:
        sock = socket.socket(fileno=CHANNEL_FD)
        # The worker's reads and writes on fd 3 block; whatever mode the
        # spawner left the descriptor in, make it so.
        sock.setblocking(True)
    except OSError:
        sys.stderr.write("portico worker: fd %d is not the channel socket; the portico front "
                         "starts this script, it is not meant to be run by hand\n" % CHANNEL_FD)
        return EXIT_USAGE
    # Until the config is read, only BOOT_ERROR may need saying.
    link = FrameLink(sock)
    try:
        if len(argv) != 2:
            raise ValueError("usage: portico_worker.py '<json config>'")
        config = WorkerConfig.from_json(argv[1])
    except ValueError as exc:
        return _boot_failed(link, "portico worker: %s" % exc)
    configure_sys_path(config.pythonpath)
    install_boot_signals()
    if FORK_SOCKET_ENV not in os.environ:
        # A zygote starts no thread: it forks. Its workers watch their own channels.
        watch_channel(sock)
    try:
        app = load_app(config.app)
        interface = interface_for(config.interface, app)
    except AppLoadError as exc:
        return _boot_failed(link, exc.text)
    fork_socket = os.environ.pop(FORK_SOCKET_ENV, None)
    if fork_socket is not None:
        # --preload: this process is the zygote; the workers are its forks.
        from .zygote import Zygote  # only --preload needs it
        return Zygote(sock, fork_socket, lambda worker_sock: serve(worker_sock, config, interface, app)).run()
    return serve(sock, config, interface, app)


def serve(sock, config: WorkerConfig, interface, app) -> int:
    """Serves requests on ``sock`` until STOP or the front is gone. Under
    --preload this runs in each forked worker, so whatever the loop
    creates (an event loop, the ASGI lifespan) is the worker's own."""
    watch_channel(sock)
    widen_send_buffer(sock)
    loop = interface.make_loop(sock, config)
    executor = interface.make_executor(app, config)
    try:
        boot = getattr(loop, "boot", None)
        if boot is not None:
            # ASGI lifespan startup: before READY, and its failure is the
            # application failing to load (lifespan spec, "Startup Failed").
            try:
                boot(executor)
            except AppLoadError as exc:
                return _boot_failed(loop.link, exc.text)
        loop.link.send_ready(os.getpid(), capabilities(), interface.ready_flags)
        loop.serve(executor)
    except ChannelClosed:
        # The front is gone: nobody to answer, nothing to report.
        return EXIT_OK
    except ChannelCorrupt as exc:
        sys.stderr.write("portico worker: frame protocol error from the front: %s\n" % exc)
        return EXIT_PROTOCOL_ERROR
    return EXIT_OK


def widen_send_buffer(sock) -> None:
    """At least CHANNEL_SEND_BUFFER of send buffer on the channel: worker CPU
    per 100 KiB response 59 -> 46 us under wrk (docs/benchmarks/analysis.md)."""
    try:
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) < CHANNEL_SEND_BUFFER:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, CHANNEL_SEND_BUFFER)
    except OSError:
        pass  # a smaller buffer costs speed, not correctness


def _boot_failed(link: FrameLink, text: str) -> int:
    try:
        link.send_boot_error(text)
    except ChannelClosed:
        # No front to tell: say it where someone may still look.
        sys.stderr.write(text + "\n")
    return EXIT_BOOT_ERROR
