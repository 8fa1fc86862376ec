"""The CGI spawner: a small long-lived process that starts CGI scripts for
the front, in the spirit of Apache's mod_cgid daemon.

Why: starting a process is the whole cost of CGI. When the front (a large
Node process) spawns a script itself, the fork happens on its event loop.
This process is small and single-threaded and starts scripts with
posix_spawn (vfork-based in glibc, no page tables copied), off the front's
event loop. Measured in bench/cgi-spawner.mjs.

Standard library only; run as a script (`python3 -I -S cgi_spawner.py ROOT
SOCKET`), it imports nothing from the portico package. The front starts one
per CGI mount.

Protocol. The control channel is this process's stdin and stdout, one JSON
object per line:

    front -> spawner   {"token": T, "path": P, "cwd": D, "env": {...},
                        "stdin": false}  (optional: no request body)
    spawner -> front   {"token": T, "pid": N}          the script runs
                       {"token": T, "error": "..."}    it could not start
                       {"token": T, "status": N}       it exited (N >= 0) or
                                                       died of signal -N

Node cannot pass file descriptors, so the script's stdio are three
connections the front opens to the private UNIX socket SOCKET, each starting
with one line that names its role and the request:

    "I T\\n"  becomes fd 0 (the request body follows the line; end of input
             is the front shutting down its side)
    "O T\\n"  becomes fd 1
    "E T\\n"  becomes fd 2

Only the line itself is consumed (read with MSG_PEEK first), so request
body bytes that follow it are left for the script. A request without a body
comes with "stdin": false and no "I" connection: its fd 0 is /dev/null, which
reads as the end of input at once (RFC 3875 section 4.2). Once the request
and its connections are all here the script starts: in a session and process
group of its own (the front kills the group by -pid), in directory D, with
exactly the environment given, its signal mask empty and every disposition
this interpreter changed (SIGPIPE, SIGXFSZ ignored by CPython; SIGINT,
SIGTERM, SIGCHLD here) back at the default.

A path outside ROOT is refused even though the front has already checked:
nothing outside a CGI directory ever runs. Input on stdin ending means the
front is gone, and this process exits.
"""
import json
import os
import selectors
import signal
import socket
import sys

#: Longest role line accepted on a stdio connection ("I " + token + "\n").
MAX_ROLE_LINE = 64
#: Signals whose disposition a script must get back at the default.
RESET_SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGPIPE", "SIGXFSZ", "SIGINT", "SIGCHLD", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2")
    if hasattr(signal, name)
)
ROLES = {b"I": 0, b"O": 1, b"E": 2}



def exit_code(wait_status: int) -> int:
    """os.waitstatus_to_exitcode (3.9+), for the 3.8 the workers also run
    on: the exit code, or minus the signal that killed the process."""
    if os.WIFSIGNALED(wait_status):
        return -os.WTERMSIG(wait_status)
    return os.WEXITSTATUS(wait_status)

class Spawner:
    def __init__(self, root, socket_path, control_in, control_out):
        self.root = os.path.realpath(root)
        self.control_in = control_in
        self.control_out = control_out
        self.requests = {}      # token -> request dict, waiting for its connections
        self.connections = {}   # token -> [stdin, stdout, stderr] sockets (None until they arrive)
        self.running = {}       # pid -> token
        self.control_buffer = b""
        self.selector = selectors.DefaultSelector()
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(socket_path)
        self.listener.listen(512)
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, self._accept)
        self.selector.register(control_in, selectors.EVENT_READ, self._read_control)
        # SIGCHLD wakes the loop through this pair; the handler itself does nothing.
        self.wake_reader, wake_writer = socket.socketpair()
        self.wake_reader.setblocking(False)
        wake_writer.setblocking(False)
        self._wake_writer = wake_writer
        signal.set_wakeup_fd(wake_writer.fileno(), warn_on_full_buffer=False)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        self.selector.register(self.wake_reader, selectors.EVENT_READ, self._reap)
        self.open = True

    def serve(self):
        self._send({"ready": True})
        while self.open:
            for key, _ in self.selector.select():
                key.data(key.fileobj)

    # -- control channel -------------------------------------------------

    def _read_control(self, stream):
        data = os.read(stream.fileno(), 1 << 16)
        if not data:
            self.open = False  # the front is gone
            return
        self.control_buffer += data
        *lines, self.control_buffer = self.control_buffer.split(b"\n")
        for line in lines:
            request = json.loads(line)
            token = request["token"]
            self.requests[token] = request
            self._launch_when_complete(token)

    def _send(self, message):
        self.control_out.write(json.dumps(message).encode("ascii") + b"\n")
        self.control_out.flush()

    # -- stdio connections -----------------------------------------------

    def _accept(self, listener):
        # Everything queued, not one per wake-up: a script's three
        # connections arrive together, and each select() costs a system call.
        while True:
            try:
                conn, _ = listener.accept()
            except BlockingIOError:
                return
            conn.setblocking(False)
            self.selector.register(conn, selectors.EVENT_READ, self._identify)

    def _identify(self, conn):
        """Reads the role line and nothing after it."""
        try:
            peeked = conn.recv(MAX_ROLE_LINE, socket.MSG_PEEK)
        except BlockingIOError:
            return
        except OSError:
            peeked = b""
        end = peeked.find(b"\n")
        if end == -1:
            if len(peeked) < MAX_ROLE_LINE and peeked:
                # The rest is on its way. The front writes a role line in one
                # small write, which a UNIX socket delivers whole, so waiting
                # here (the socket stays readable) does not spin in practice.
                return
            self.selector.unregister(conn)
            conn.close()  # closed early, or not our protocol
            return
        self.selector.unregister(conn)
        conn.recv(end + 1)
        role, _, token = peeked[:end].decode("ascii", "replace").partition(" ")
        slot = ROLES.get(role.encode("ascii", "replace"))
        if slot is None:
            conn.close()
            return
        self.connections.setdefault(token, [None, None, None])[slot] = conn
        self._launch_when_complete(token)

    # -- scripts ---------------------------------------------------------

    def _launch_when_complete(self, token):
        stdio = self.connections.get(token)
        request = self.requests.get(token)
        if request is None or stdio is None:
            return
        if None in (stdio if request.get("stdin", True) else stdio[1:]):
            return
        del self.connections[token]
        del self.requests[token]
        try:
            pid = self._spawn(request, stdio)
        except OSError as error:
            self._send({"token": token, "error": "%s (errno %d)" % (error.strerror or error, error.errno or 0)})
        else:
            self.running[pid] = token
            self._send({"token": token, "pid": pid})
        finally:
            for conn in stdio:
                if conn is not None:
                    conn.close()

    def _spawn(self, request, stdio):
        path = request["path"]
        real = os.path.realpath(path)
        if not real.startswith(self.root + os.sep):
            raise PermissionError(1, "'%s' is outside the CGI directory %s" % (path, self.root))
        # posix_spawn has no portable chdir action; this process is
        # single-threaded, so changing its own directory first is safe.
        os.chdir(request["cwd"])
        # O_NONBLOCK belongs to the open file, which the script shares: a
        # script must get ordinary blocking stdio, as from a pipe.
        file_actions = []
        for fd, conn in enumerate(stdio):
            if conn is None:
                file_actions.append((os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDONLY, 0))
            else:
                conn.setblocking(True)
                file_actions.append((os.POSIX_SPAWN_DUP2, conn.fileno(), fd))
        return os.posix_spawn(
            path,
            [path],
            request["env"],
            file_actions=file_actions,
            setsid=True,
            setsigmask=(),
            setsigdef=RESET_SIGNALS,
        )

    def _reap(self, wake_reader):
        try:
            while wake_reader.recv(4096):
                pass
        except BlockingIOError:
            pass
        while self.running:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            token = self.running.pop(pid, None)
            if token is not None:
                self._send({"token": token, "status": exit_code(wait_status)})


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: cgi_spawner.py CGI_ROOT SOCKET_PATH\n")
        return 2
    # SIGINT (Ctrl-C) and SIGTERM (systemctl stop, kill -- -PGID) may reach
    # the whole process group or cgroup at once; the front decides what they
    # mean, drains, and then ends this process's stdin. Scripts get both
    # back at the default (RESET_SIGNALS).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    Spawner(argv[1], argv[2], sys.stdin.buffer, sys.stdout.buffer).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
