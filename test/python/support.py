"""Shared by the Python tests: makes `portico` importable, plus small fakes.

Run from the repository root:
    python3 -m unittest discover -s test/python -t test/python
"""
import io
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON_DIR = os.path.join(REPO, "python")
WORKER_SCRIPT = os.path.join(PYTHON_DIR, "portico_worker.py")
FIXTURES = os.path.join(REPO, "test", "fixtures")
FIXTURE_APPS = os.path.join(FIXTURES, "apps")
GOLDEN_FRAMES = os.path.join(FIXTURES, "golden-frames.json")

if PYTHON_DIR not in sys.path:
    sys.path.insert(0, PYTHON_DIR)

from portico.frame_link import NoLock  # noqa: E402
from portico.input import RequestInput  # noqa: E402
from portico.stream import Stream  # noqa: E402


class FakeLink:
    """The channel side of wsgi.input, in memory: ``arrivals`` is what the
    front would send next, one step per wait (("body", bytes) or ("end",
    flags) or ("cancel", None)); ``grants`` records every WANT_BODY."""

    def __init__(self, arrivals=()):
        self.lock = NoLock()
        self.arrivals = list(arrivals)
        self.grants = []
        self.waits = 0

    def want_body(self, stream, n):
        self.grants.append(n)

    def wait(self, stream, ready):
        while not ready():
            if not self.arrivals:
                raise AssertionError("wait() with nothing left to arrive: the reader would hang")
            self.waits += 1
            kind, value = self.arrivals.pop(0)
            if kind == "body":
                stream.on_body(value)
            elif kind == "end":
                stream.on_end(value)
            else:
                stream.on_cancel()


def make_input(body=b"", flags=1, chunks=None, end_flags=0, prebuffer=True):
    """A RequestInput over a Stream whose body arrives in ``chunks`` (default:
    one chunk), already buffered when ``prebuffer`` and flags allow it."""
    stream = Stream(1, flags, {})
    if chunks is None:
        chunks = [body] if body else []
    arrivals = [("body", c) for c in chunks] + [("end", end_flags)]
    link = FakeLink(arrivals)
    if prebuffer and not stream.expect_continue:
        link.wait(stream, lambda: stream.body_done)
    return RequestInput(stream, link), stream, link


class FakeTransport:
    """An in-memory transport for the executor: records what would have
    become frames, as (kind, ...) tuples in ``events``."""

    def __init__(self, body=b"", flags=1, chunks=None, cancel_after_bodies=None):
        self.input, self.stream, self.link = make_input(body, flags, chunks)
        self.events = []
        self.cancelled = False
        self.cancel_after_bodies = cancel_after_bodies
        self.flushes = 0

    def send_head(self, code, reason, headers):
        self._check()
        self.events.append(("head", code, reason, list(headers)))

    def send_body(self, data, flush):
        self._check()
        self.events.append(("body", bytes(data)))
        if flush:
            self.flushes += 1
        if self.cancel_after_bodies is not None and len(self.bodies()) >= self.cancel_after_bodies:
            self.cancelled = True

    def send_file(self, path, offset, length):
        self._check()
        self.events.append(("file", path, offset, length))

    def finish(self, abort=False):
        self.events.append(("end", abort))

    def fail(self, status, text):
        self.events.append(("error", status, text))

    def _check(self):
        if self.cancelled:
            from portico.errors import ClientDisconnected
            raise ClientDisconnected("client disconnected")

    # -- views for assertions
    def kinds(self):
        return [e[0] for e in self.events]

    def head(self):
        heads = [e for e in self.events if e[0] == "head"]
        return heads[0] if heads else None

    def bodies(self):
        return [e[1] for e in self.events if e[0] == "body"]

    def body(self):
        return b"".join(self.bodies())

    def error(self):
        errors = [e for e in self.events if e[0] == "error"]
        return errors[0] if errors else None


def base_environ(method="GET", path="/", query="", **extra):
    environ = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "localhost", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
    }
    environ.update(extra)
    return environ


class CapturedStderr:
    """Swaps sys.stderr for a StringIO (warnings the executor writes)."""

    def __enter__(self):
        self.saved = sys.stderr
        sys.stderr = self.buffer = io.StringIO()
        return self.buffer

    def __exit__(self, *exc):
        sys.stderr = self.saved
        return False


class FakeFront:
    """The front's end of the frame channel, for tests: sends frames and
    reads the worker's frames back as (type name, flags, stream, message)."""

    def __init__(self, sock, timeout=10.0):
        from portico.frame_decoder import FrameDecoder
        self.sock = sock
        self.sock.settimeout(timeout)
        self.decoder = FrameDecoder()
        self.frames = []
        self.aside = []

    def send(self, *frames):
        self.sock.sendall(b"".join(frames))

    def request(self, stream_id, path="/", method="GET", flags=0, query="", **extra):
        return request_frame(stream_id, path, method, flags, query, **extra)

    def read_frame(self):
        """The next frame, or None at EOF."""
        from portico import codec, frame_messages
        while not self.frames:
            n = self.decoder.recv_into(self.sock)
            for ftype, flags, stream, payload in self.decoder.frames():
                self.frames.append((codec.TYPE_NAMES[ftype], flags, stream, frame_messages.decode_message(ftype, flags, payload)))
            if n == 0 and not self.frames:
                return None
        return self.frames.pop(0)

    def read_until(self, predicate):
        """Frames up to and including the first one predicate accepts."""
        got = []
        while True:
            frame = self.read_frame()
            if frame is None:
                raise AssertionError("EOF before the expected frame; got %r" % (got,))
            got.append(frame)
            if predicate(frame):
                return got

    def response(self, stream_id, window=True):
        """Every frame of one stream up to RESPONSE_END or ERROR, granting
        WINDOW as body arrives; frames of other streams are kept aside."""
        from portico import codec
        got = []
        kept = [f for f in self.aside if f[2] == stream_id]
        self.aside = [f for f in self.aside if f[2] != stream_id]
        while True:
            frame = kept.pop(0) if kept else self.read_frame()
            if frame is None:
                raise AssertionError("EOF before stream %d ended; got %r" % (stream_id, got))
            if frame[2] != stream_id:
                self.aside.append(frame)
                continue
            got.append(frame)
            if window and frame[0] == "RESPONSE_BODY":
                n = len(frame[3]["data_hex"]) // 2
                self.send(codec.encode_frame(codec.WINDOW, 0, stream_id, codec.encode_u32(n)))
            if frame[0] in ("RESPONSE_END", "ERROR"):
                return got


def body_of(frames):
    return b"".join(bytes.fromhex(f[3]["data_hex"]) for f in frames if f[0] == "RESPONSE_BODY")


def request_frame(stream_id, path="/", method="GET", flags=0, query="", **extra):
    from portico import codec
    environ = base_environ(method=method, path=path, query=query, **extra)
    return codec.encode_frame(codec.REQUEST, flags, stream_id, codec.encode_environ(environ.items()))
