"""The --preload zygote: imports the application once, then forks workers.

The front starts the zygote like any worker, with PORTICO_FORK_SOCKET naming
a UNIX socket the front listens on. Once the application is loaded the
zygote sends READY and waits on its channel:

    front --SPAWN--> zygote --fork()--> worker --connect--> front's fork socket
    front <--WORKER_EXIT(pid, wait status)-- zygote, when a worker it forked ends

A forked worker shares the zygote's memory pages copy-on-write, so the
application's code and import-time data are in memory once, and a respawn
costs a fork instead of an import. Each forked worker then speaks the usual
protocol on its own connection, starting with READY(pid, protocol version, capabilities).

Like a worker, the zygote leaves SIGTERM and SIGINT to the front
(worker.install_boot_signals, whose handlers its forks inherit): it ends at
STOP, or at the end of its channel, which it checks every REAP_INTERVAL.
"""
from __future__ import annotations

import gc
import os
import select
import socket
import sys
import threading
import time
import traceback

from .codec import READY, SPAWN, STOP, WORKER_EXIT, encode_frame, encode_ready, encode_worker_exit
from .frame_decoder import FrameDecoder
from .interfaces import capabilities

# How often the zygote reaps children while no frame arrives: the bound on
# how late the front hears why a worker died.
REAP_INTERVAL = 0.1
# A forked worker's output lines carry its pid behind this marker, so that
# the front can tag them although they share the zygote's pipes.
PID_MARK = "\x1e"


class Zygote:
    def __init__(self, channel: socket.socket, fork_socket: str, serve) -> None:
        self.channel = channel
        self.fork_socket = fork_socket
        self.serve = serve  # serve(sock) -> exit status, in a forked child
        self.decoder = FrameDecoder()

    def run(self) -> int:
        self.channel.sendall(encode_frame(READY, 0, 0, encode_ready(os.getpid(), capabilities=capabilities())))
        # Objects that exist now are never collected: freezing them keeps the
        # collector from touching (and so copying) the pages the workers share.
        if hasattr(gc, "freeze"):
            gc.freeze()
        while True:
            readable, _, _ = select.select([self.channel], [], [], REAP_INTERVAL)
            self.reap()
            if not readable:
                continue
            if self.decoder.recv_into(self.channel) == 0:
                return 0  # the front is gone; the workers see their own EOF
            for ftype, _flags, _stream, _payload in self.decoder.frames():
                if ftype == SPAWN:
                    self.spawn()
                elif ftype == STOP:
                    return 0

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.channel.sendall(encode_frame(WORKER_EXIT, 0, 0, encode_worker_exit(pid, status)))

    def spawn(self) -> None:
        pid = os.fork()
        if pid != 0:
            return
        status = 1
        relays = []
        try:
            self.channel.close()
            relays = tag_output_with_pid()
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(self.fork_socket)
            status = self.serve(sock)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            finish_relays(relays)
            os._exit(status)


def tag_output_with_pid() -> list:
    """Routes this process's stdout and stderr through a pipe whose lines are
    marked with its pid, and a thread that copies them to the shared pipes;
    returns the threads."""
    pid = str(os.getpid())
    relays = []
    for fd in (1, 2):
        original = os.dup(fd)
        read_end, write_end = os.pipe()
        os.dup2(write_end, fd)
        os.close(write_end)
        relay = threading.Thread(target=_relay_lines, args=(read_end, original, pid), daemon=True)
        relay.start()
        relays.append(relay)
    return relays


def finish_relays(relays, timeout: float = 1.0) -> None:
    """Lets the relays copy the last lines before os._exit, which would
    lose them with the daemon threads (an ASGI worker's lifespan shutdown
    writes just then): closing fds 1 and 2 ends their pipes."""
    if not relays:
        return
    for fd in (1, 2):
        try:
            os.close(fd)
        except OSError:
            pass
    deadline = time.monotonic() + timeout
    for relay in relays:
        relay.join(max(0.0, deadline - time.monotonic()))


def _relay_lines(read_end: int, target: int, pid: str) -> None:
    prefix = (PID_MARK + pid + PID_MARK).encode()
    pending = b""
    while True:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        lines = (pending + chunk).split(b"\n")
        pending = lines.pop()
        if lines:
            os.write(target, b"".join(prefix + line + b"\n" for line in lines))
    if pending:
        os.write(target, prefix + pending + b"\n")
