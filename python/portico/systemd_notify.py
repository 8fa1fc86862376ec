"""Sends the front's sd_notify(3) messages to systemd's NOTIFY_SOCKET.

Why a process of its own: NOTIFY_SOCKET is a UNIX datagram socket, and Node
has none (its dgram module speaks UDP only). A long-lived helper in the
Python that portico already runs costs one small process and none of a
native addon, and keeps each message one datagram, in order. Not one
`systemd-notify` per message: systemd must find the sender's unit from its
pid, and a process that has already exited may no longer be found.

systemd accepts a message from the service's main pid only, unless the unit
says NotifyAccess=all (docs/deploy.md). So the helper first sends with the
front's pid in SCM_CREDENTIALS, which the kernel allows when it may speak for
that pid (root, CAP_SYS_ADMIN); else it sends as itself, and the unit needs
NotifyAccess=all.

Run as a script (`python3 -I -S systemd_notify.py NOTIFY_SOCKET FRONT_PID`),
standard library only. Each line on stdin is one message, a JSON string
("READY=1\\nSTATUS=..."); the end of stdin ends the helper. SIGTERM and SIGINT
are the front's to act on (the whole process group may get them at once).
"""
import json
import os
import signal
import socket
import struct
import sys


def socket_address(value):
    """NOTIFY_SOCKET as sd_notify reads it: a path, or '@name' in the abstract namespace."""
    if value.startswith("@"):
        return "\0" + value[1:]
    return value


class Notifier:
    def __init__(self, address, front_pid):
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        creds = getattr(socket, "SCM_CREDENTIALS", None)
        self.credentials = None
        if creds is not None and front_pid > 0:
            self.credentials = [(socket.SOL_SOCKET, creds, struct.pack("iII", front_pid, os.getuid(), os.getgid()))]

    def send(self, message):
        data = message.encode("utf-8")
        if self.credentials is not None:
            try:
                self.sock.sendmsg([data], self.credentials, 0, self.address)
                return
            except PermissionError:
                self.credentials = None  # not allowed to speak for the front: as ourselves from now on
        self.sock.sendto(data, self.address)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write("usage: systemd_notify.py NOTIFY_SOCKET FRONT_PID\n")
        return 2
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    notifier = Notifier(socket_address(argv[1]), int(argv[2]))
    for line in sys.stdin.buffer:
        try:
            notifier.send(json.loads(line))
        except OSError as error:
            # systemd gone, or never there: the service goes on without it.
            sys.stderr.write("cannot notify %s: %s\n" % (argv[1], error.strerror or error))
            sys.stderr.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
