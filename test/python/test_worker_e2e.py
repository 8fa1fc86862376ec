"""The real worker process, spawned the way the front spawns it: the entry
script with a JSON config, fd 3 one end of a socketpair."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import support
from portico import codec

# Puts the channel on fd 3 and execs the worker: the same process (and pid)
# the front would start. subprocess itself cannot renumber an fd, and a
# preexec_fn dup2 would be undone by close_fds.
TRAMPOLINE = (
    "import os, sys\n"
    "fd = int(sys.argv[1])\n"
    "if fd != 3:\n"
    "    os.dup2(fd, 3)\n"
    "    os.close(fd)\n"
    "os.execv(sys.executable, [sys.executable] + sys.argv[2:])\n"
)


def spawn(config, cwd=None, env=None):
    """(process, FakeFront) for a worker with ``config``."""
    ours, theirs = socket.socketpair()
    fd = theirs.fileno()
    full_env = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    full_env.update(env or {})
    proc = subprocess.Popen(
        [sys.executable, "-c", TRAMPOLINE, str(fd), support.WORKER_SCRIPT, json.dumps(config)],
        cwd=cwd or support.FIXTURE_APPS, env=full_env, pass_fds=(fd,),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    theirs.close()
    return proc, support.FakeFront(ours, timeout=20)


class WorkerCase(unittest.TestCase):
    def start(self, app, **config):
        config = dict({"app": app, "pythonpath": [], "threads": 1, "multiprocess": True}, **config)
        cwd = config.pop("cwd", None)
        self.proc, self.front = spawn(config, cwd=cwd)
        self.addCleanup(self.cleanup)
        return self.front

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=10)
        self.front.sock.close()

    def ready(self):
        frame = self.front.read_frame()
        if frame is None:
            self.fail("the worker closed the channel: %r" % (self.proc.communicate(timeout=10),))
        self.assertEqual(frame[:3], ("READY", 0, 0), frame)
        self.assertEqual(frame[3], {"pid": self.proc.pid, "version": codec.PROTOCOL_VERSION,
                                    "capabilities": codec.CAP_WSGI | codec.CAP_ASGI | codec.CAP_WEBSOCKET})

    def stop(self):
        self.front.send(codec.encode_frame(codec.STOP, 0, 0))
        out, err = self.proc.communicate(timeout=10)
        self.assertEqual(self.proc.returncode, 0, err.decode())
        return out, err


class ServeTest(WorkerCase):
    def test_pipelined_requests(self):
        front = self.start("hello_app:app")
        self.ready()
        front.send(*[front.request(i, path="/%d" % i) for i in (1, 2, 3)])
        frames = front.read_until(lambda f: f[0] == "RESPONSE_END" and f[2] == 3)
        self.assertEqual([(f[0], f[2]) for f in frames], [
            (kind, i) for i in (1, 2, 3)
            for kind in ("STARTED", "RESPONSE_HEAD", "RESPONSE_BODY", "RESPONSE_END")])
        for i in (1, 2, 3):
            stream = [f for f in frames if f[2] == i]
            self.assertEqual(stream[1][3]["status"], 200)
            self.assertIn(["Content-Length", "14"], stream[1][3]["headers"])
            self.assertEqual(support.body_of(stream), b"hello from app")
            self.assertEqual(stream[3][1], 0)
        self.stop()

    def test_environ_and_sys_path(self):
        with tempfile.TemporaryDirectory() as cwd:
            os.mkdir(os.path.join(cwd, "lib"))
            front = self.start("echo_environ", cwd=cwd, pythonpath=["lib", support.FIXTURE_APPS],
                               multiprocess=False)
            self.ready()
            front.send(front.request(1, path="/caf\u00c3\u00a9", query="x=\u00ff"))
            frames = front.response(1)
            self.assertEqual(frames[-1][0], "RESPONSE_END", frames)
            report = json.loads(support.body_of(frames))
            cwd_real = os.path.realpath(cwd)
            self.assertEqual([os.path.realpath(p) for p in report["sys_path"][:3]],
                             [cwd_real, os.path.join(cwd_real, "lib"), support.FIXTURE_APPS])
            self.assertNotIn(support.PYTHON_DIR, report["sys_path"])
            self.assertEqual(os.path.realpath(report["cwd"]), cwd_real)
            self.assertEqual(report["environ"]["PATH_INFO"], "/caf\u00c3\u00a9")
            self.assertEqual(report["environ"]["QUERY_STRING"], "x=\u00ff")
            self.assertEqual(report["wsgi"], {
                "version": [1, 0], "url_scheme": "http", "multithread": False, "multiprocess": False,
                "run_once": False, "input_terminated": True, "file_wrapper_callable": True,
                "input_has_read": True, "errors_has_write": True})
            self.stop()

    def test_request_body(self):
        front = self.start("input_app", pythonpath=[support.FIXTURE_APPS])
        self.ready()
        front.send(front.request(1, method="POST", path="/read-all", flags=codec.HAS_BODY,
                                 CONTENT_LENGTH="11"))
        self.assertEqual(front.read_frame()[0], "STARTED")
        front.send(codec.encode_frame(codec.REQUEST_BODY, 0, 1, b"hello "),
                   codec.encode_frame(codec.REQUEST_BODY, 0, 1, b"world"),
                   codec.encode_frame(codec.REQUEST_END, 0, 1))
        report = json.loads(support.body_of(front.response(1)))
        self.assertEqual((report["data"], report["second"]), ("hello world", ""))
        self.stop()

    def test_streamed_download_within_the_window(self):
        front = self.start("stream_app")
        self.ready()
        front.send(front.request(1, path="/download", query="blocks=128"))  # 8 MiB
        frames = front.response(1)  # grants WINDOW for every body frame
        body = support.body_of(frames)
        self.assertEqual(len(body), 128 * 65536)
        self.assertEqual(body[:256], bytes(range(256)))
        self.assertEqual(frames[-1][:2], ("RESPONSE_END", 0))
        self.stop()

    def test_cancel_closes_the_iterable(self):
        with tempfile.TemporaryDirectory() as tmp:
            log = os.path.join(tmp, "close.log")
            self.proc, self.front = spawn({"app": "close_app"}, env={"CLOSE_LOG": log})
            self.addCleanup(self.cleanup)
            front = self.front
            self.ready()
            front.send(front.request(1, path="/slow", query="tag=t1"))
            front.read_until(lambda f: f[0] == "RESPONSE_BODY")
            front.send(codec.encode_frame(codec.CANCEL, 0, 1))
            frames = front.response(1, window=False)
            self.assertEqual(frames[-1][:2], ("RESPONSE_END", codec.ABORT))
            self.stop()
            with open(log) as f:
                self.assertEqual(f.read(), "close t1\n")

    def test_app_error_keeps_the_worker_serving(self):
        front = self.start("errors_app")
        self.ready()
        front.send(front.request(1, path="/raise", query="mark=e2e"), front.request(2, path="/pid"))
        first = front.response(1)
        self.assertEqual(first[-1][0], "ERROR")
        self.assertEqual(first[-1][3]["status"], 500)
        self.assertTrue(first[-1][3]["text"].startswith("Error handling request GET /raise?mark=e2e\n"))
        self.assertIn("RuntimeError: boom-e2e", first[-1][3]["text"])
        self.assertEqual(support.body_of(front.response(2)), str(self.proc.pid).encode())
        self.stop()

    def test_app_output_goes_to_its_pipes(self):
        front = self.start("errors_app")
        self.ready()
        front.send(front.request(1, path="/print", query="mark=m1"))
        front.response(1)
        out, err = self.stop()
        self.assertIn(b"stdout-m1", out)
        self.assertIn(b"stderr-m1", err)
        self.assertIn(b"wsgi-errors-m1", err)


class ThreadedWorkerTest(WorkerCase):
    def test_requests_overlap_with_threads(self):
        front = self.start("crash_app", threads=4)
        self.ready()
        started = time.monotonic()
        front.send(*[front.request(i, path="/sleep", query="s=0.5") for i in (1, 2, 3, 4)])
        for i in (1, 2, 3, 4):
            self.assertEqual(support.body_of(front.response(i)), str(self.proc.pid).encode())
        self.assertLess(time.monotonic() - started, 1.5)
        self.stop()

    def test_multithread_is_reported(self):
        front = self.start("echo_environ", threads=2)
        self.ready()
        front.send(front.request(1))
        report = json.loads(support.body_of(front.response(1)))
        self.assertIs(report["wsgi"]["multithread"], True)
        self.stop()


class LifecycleTest(WorkerCase):
    def test_boot_error_is_reported_and_exits_4(self):
        front = self.start("nosuchmodule:app")
        frame = front.read_frame()
        self.assertEqual(frame[:3], ("BOOT_ERROR", 0, 0))
        text = frame[3]["text"]
        self.assertIn("ModuleNotFoundError: No module named 'nosuchmodule'", text)
        self.assertIn("portico: could not load the application 'nosuchmodule:app' with %s" % sys.executable,
                      text.splitlines()[-1])
        self.assertEqual(self.proc.wait(10), 4)

    def test_syntax_error_in_the_app(self):
        front = self.start("broken_syntax")
        frame = front.read_frame()
        self.assertEqual(frame[0], "BOOT_ERROR")
        self.assertIn("SyntaxError", frame[3]["text"])
        self.assertEqual(self.proc.wait(10), 4)

    def test_bad_config_is_a_boot_error(self):
        front = self.start("hello_app", threads=0)
        frame = front.read_frame()
        self.assertEqual(frame[0], "BOOT_ERROR")
        self.assertIn('"threads"', frame[3]["text"])
        self.assertEqual(self.proc.wait(10), 4)

    def test_eof_on_the_channel_exits_quietly(self):
        front = self.start("hello_app")
        self.ready()
        front.sock.shutdown(socket.SHUT_WR)
        out, err = self.proc.communicate(timeout=10)
        self.assertEqual((self.proc.returncode, err), (0, b""))

    def test_sys_exit_in_the_app_ends_the_worker(self):
        with tempfile.TemporaryDirectory() as cwd:
            with open(os.path.join(cwd, "exiting.py"), "w") as f:
                f.write("import sys\n"
                        "def application(environ, start_response):\n"
                        "    sys.exit(7)\n")
            for threads in (1, 3):
                with self.subTest(threads=threads):
                    proc, front = spawn({"app": "exiting", "threads": threads}, cwd=cwd)
                    self.assertEqual(front.read_frame()[0], "READY")
                    front.send(front.request(1))
                    proc.communicate(timeout=10)
                    front.sock.close()
                    self.assertEqual(proc.returncode, 7)

    def test_frame_protocol_error_exits_3(self):
        front = self.start("hello_app")
        self.ready()
        front.send(codec.encode_frame(codec.STARTED, 0, 1))  # a worker-to-front frame
        _, err = self.proc.communicate(timeout=10)
        self.assertEqual(self.proc.returncode, 3)
        self.assertIn(b"frame protocol error", err)

    def sigterm_and_sigint_are_left_to_the_front(self, threads):
        # systemctl stop and kill -- -PGID signal every process at once:
        # the worker serves on until the front's STOP.
        front = self.start("sleepy_app", threads=threads)
        self.ready()
        front.send(front.request(1, path="/sleep", query="s=0.5"))
        self.assertEqual(front.read_frame()[0], "STARTED")
        self.proc.send_signal(signal.SIGTERM)
        self.proc.send_signal(signal.SIGINT)
        self.assertEqual(front.response(1)[-1][0], "RESPONSE_END")
        front.send(front.request(2, path="/pid"))
        self.assertEqual(support.body_of(front.response(2)), str(self.proc.pid).encode())
        self.stop()

    def test_sigterm_and_sigint_are_left_to_the_front(self):
        self.sigterm_and_sigint_are_left_to_the_front(1)

    def test_sigterm_and_sigint_are_left_to_the_front_with_threads(self):
        self.sigterm_and_sigint_are_left_to_the_front(3)

    def busy_worker_ends_when_the_front_hangs_up(self, threads):
        # The front was SIGKILLed while the worker runs a request that never
        # ends: nobody reads the channel, and yet the worker is gone within a second.
        front = self.start("sleepy_app", threads=threads)
        self.ready()
        front.send(front.request(1, path="/forever"))
        self.assertEqual(front.read_frame()[0], "STARTED")
        hung_up = time.monotonic()
        front.sock.close()
        self.assertEqual(self.proc.wait(5), 0)
        self.assertLess(time.monotonic() - hung_up, 1.0)

    def test_busy_worker_ends_when_the_front_hangs_up(self):
        self.busy_worker_ends_when_the_front_hangs_up(1)

    def test_busy_worker_ends_when_the_front_hangs_up_with_threads(self):
        self.busy_worker_ends_when_the_front_hangs_up(3)

    def test_a_worker_ends_when_the_front_hangs_up_while_it_imports(self):
        self.proc, self.front = spawn({"app": "slow_import_app", "pythonpath": []}, env={"IMPORT_DELAY": "30"})
        self.addCleanup(self.cleanup)
        time.sleep(0.5)
        hung_up = time.monotonic()
        self.front.sock.close()
        self.proc.wait(5)
        self.assertLess(time.monotonic() - hung_up, 1.0)

    def test_eof_exits_quietly_with_threads(self):
        front = self.start("hello_app", threads=3)
        self.ready()
        front.sock.shutdown(socket.SHUT_WR)
        out, err = self.proc.communicate(timeout=10)
        self.assertEqual((self.proc.returncode, err), (0, b""))

    def test_sigint_is_ignored(self):
        front = self.start("hello_app")
        self.ready()
        self.proc.send_signal(signal.SIGINT)
        front.send(front.request(1))
        self.assertEqual(front.response(1)[-1][0], "RESPONSE_END")
        self.stop()

    def test_sigusr1_dumps_stacks(self):
        self.start("hello_app")
        self.ready()
        self.proc.send_signal(signal.SIGUSR1)
        _, err = self.stop()
        self.assertIn(b"most recent call first", err)

    def test_without_a_channel(self):
        proc = subprocess.run([sys.executable, support.WORKER_SCRIPT, "{}"], capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=20, close_fds=True)
        self.assertEqual(proc.returncode, 2)
        self.assertIn(b"fd 3", proc.stderr)


if __name__ == "__main__":
    unittest.main()
