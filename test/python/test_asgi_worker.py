"""A real ASGI worker process, spawned as the front spawns it: READY with the
ASGI flag after lifespan startup, lifespan failures as boot errors, the
heartbeat of a blocked loop and its SIGUSR1 dump, SIGTERM, and --preload's
forked workers each with their own loop and lifespan."""
import os
import signal
import socket
import tempfile
import time
import unittest

import support
from portico import codec
from test_asgi_loop import asgi_request, frame
from test_worker_e2e import spawn

HERE = os.path.dirname(os.path.abspath(__file__))


def config(app, **extra):
    return dict({"app": "asgi_worker_apps:" + app, "pythonpath": [HERE], "interface": "auto"}, **extra)


class AsgiWorkerCase(unittest.TestCase):
    def start(self, app, env=None, **extra):
        self.proc, self.front = spawn(config(app, **extra), env=env)
        self.addCleanup(self.cleanup)
        return self.front

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=10)
        self.front.sock.close()

    def ready(self, front=None, pid=None):
        got = (front or self.front).read_frame()
        self.assertIsNotNone(got, "the worker closed the channel")
        self.assertEqual(got[:3], ("READY", codec.ASGI, 0), got)
        self.assertEqual(got[3]["capabilities"], codec.CAP_WSGI | codec.CAP_ASGI | codec.CAP_WEBSOCKET)
        self.assertEqual(got[3]["pid"], pid or self.proc.pid)

    def stop(self):
        self.front.send(frame(codec.STOP))
        out, err = self.proc.communicate(timeout=10)
        self.assertEqual(self.proc.returncode, 0, err.decode())
        return err.decode()


class ServeTest(AsgiWorkerCase):
    def test_ready_with_the_asgi_flag_then_requests_then_shutdown_on_stop(self):
        front = self.start("app")
        self.ready()
        front.send(asgi_request(1, b"/"), asgi_request(2, b"/pids"))
        self.assertEqual(support.body_of(front.response(1)), b"hello from asgi")
        started_in, served_by = support.body_of(front.response(2)).split()
        self.assertEqual(int(started_in), self.proc.pid)
        self.assertEqual(int(served_by), self.proc.pid)
        self.assertIn("lifespan shutdown ran in %d" % self.proc.pid, self.stop())

    def test_sigterm_is_left_to_the_front_and_its_end_unwinds_the_tasks(self):
        front = self.start("app")
        self.ready()
        front.send(asgi_request(1, b"/wait"))
        front.read_until(lambda f: f[0] == "STARTED")
        time.sleep(0.1)
        # Sent to every process at once by systemctl stop: the front drains first.
        self.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        self.assertIsNone(self.proc.poll())
        hung_up = time.monotonic()
        front.sock.close()
        _, err = self.proc.communicate(timeout=10)
        self.assertEqual(self.proc.returncode, 0, err.decode())
        self.assertLess(time.monotonic() - hung_up, 1.0)
        self.assertIn("the waiting request unwound", err.decode())

    def test_a_blocked_loop_ends_when_the_front_hangs_up(self):
        front = self.start("app")
        self.ready()
        front.send(asgi_request(1, b"/block"))  # blocks the loop for 3 s
        front.read_until(lambda f: f[0] == "RESPONSE_END")
        hung_up = time.monotonic()
        front.sock.close()
        self.assertEqual(self.proc.wait(5), 0)
        self.assertLess(time.monotonic() - hung_up, 1.0)


class BootErrorTest(AsgiWorkerCase):
    def boot_error(self):
        got = self.front.read_frame()
        self.assertEqual(got[0], "BOOT_ERROR", got)
        _, err = self.proc.communicate(timeout=10)
        self.assertEqual(self.proc.returncode, 4)
        # Reported once, in BOOT_ERROR; the loop and its tasks go quietly.
        self.assertEqual(err.decode(), "")
        return got[3]["text"]

    def test_lifespan_startup_failed(self):
        self.start("failed_startup")
        text = self.boot_error()
        self.assertIn("lifespan startup failed", text)
        self.assertIn("the database is not there", text)

    def test_an_exception_in_lifespan_startup(self):
        self.start("raising_startup")
        text = self.boot_error()
        self.assertIn("Traceback", text)
        self.assertIn("ConnectionRefusedError: cannot reach the cache", text)

    def test_wsgi_for_an_asgi_application(self):
        self.start("app", interface="wsgi")
        self.assertIn("is an ASGI application", self.boot_error())


class StuckLoopTest(AsgiWorkerCase):
    def test_a_blocked_loop_answers_no_ping_and_sigusr1_shows_where_it_is(self):
        front = self.start("app")
        self.ready()
        front.send(frame(codec.PING, 0, codec.encode_u32(1)))
        self.assertEqual(front.read_frame()[:2], ("PONG", 0))
        front.send(asgi_request(2, b"/wait"), asgi_request(1, b"/block"))
        front.read_until(lambda f: f[:3] == ("STARTED", 0, 1))
        time.sleep(0.3)
        front.send(frame(codec.PING, 0, codec.encode_u32(2)))
        front.sock.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            front.read_frame()
        self.proc.send_signal(signal.SIGUSR1)
        # Once the blocking call returns, the loop answers again.
        front.sock.settimeout(10)
        got = front.read_until(lambda f: f[0] == "PONG")
        self.assertEqual(got[-1][3], {"nonce": 2})
        front.send(frame(codec.CANCEL, 2, flags=codec.TIMED_OUT))  # or STOP would wait for it
        err = self.stop()
        # faulthandler's dump of the threads, then the tasks'.
        self.assertIn("Current thread", err)
        dump = err[err.index("portico: the asyncio tasks"):]
        self.assertLess(err.index("Current thread"), err.index("portico: the asyncio tasks"))
        running = dump[dump.index("running: the event loop is blocked here"):]
        self.assertIn("THE BLOCKING LINE", running.split("Task ")[0])
        self.assertIn("in block_the_loop", running)
        # The waiting task is shown where it waits, not just at its outer frame.
        self.assertIn("await asyncio.sleep(60)", dump)


class PreloadTest(AsgiWorkerCase):
    def test_each_forked_worker_runs_its_own_loop_and_lifespan(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "fork.sock")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.addCleanup(listener.close)
            listener.bind(path)
            listener.listen(4)
            listener.settimeout(10)
            zygote = self.start("app", env={"PORTICO_FORK_SOCKET": path})
            got = zygote.read_frame()
            self.assertEqual((got[0], got[3]["pid"]), ("READY", self.proc.pid))
            zygote.send(frame(codec.SPAWN))
            conn, _ = listener.accept()
            worker = support.FakeFront(conn)
            self.addCleanup(conn.close)
            got = worker.read_frame()
            self.assertEqual(got[:3], ("READY", codec.ASGI, 0))
            pid = got[3]["pid"]
            self.assertNotEqual(pid, self.proc.pid)
            worker.send(asgi_request(1, b"/pids"))
            self.assertEqual(support.body_of(worker.response(1)).split(), [b"%d" % pid] * 2)
            worker.send(frame(codec.STOP))
            got = zygote.read_until(lambda f: f[0] == "WORKER_EXIT")
            self.assertEqual(got[-1][3], {"pid": pid, "status": 0})
            zygote.send(frame(codec.STOP))
            _, err = self.proc.communicate(timeout=10)
            self.assertEqual(self.proc.returncode, 0)
            self.assertIn("lifespan shutdown ran in %d" % pid, err.decode())
            self.assertNotIn("lifespan shutdown ran in %d" % self.proc.pid, err.decode())


if __name__ == "__main__":
    unittest.main()
