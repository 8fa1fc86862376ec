"""The CGI spawner as the front drives it: a real process, its control
lines on stdin/stdout, the three stdio connections per script on its
socket, and real scripts."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import support

SPAWNER = os.path.join(support.PYTHON_DIR, "portico", "cgi_spawner.py")


class SpawnerTest(unittest.TestCase):
    def setUp(self):
        self.base = os.path.realpath(tempfile.mkdtemp(prefix="portico-spawner-"))
        self.root = os.path.join(self.base, "cgi-bin")
        os.mkdir(self.root)
        self.socket_path = os.path.join(self.base, "spawner.sock")
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", SPAWNER, self.root, self.socket_path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        self.assertEqual(self.read_message(), {"ready": True})
        self.tokens = 0

    def tearDown(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.process.stdin.close()
        self.process.stdout.close()
        shutil.rmtree(self.base)

    def script(self, name, text, directory=None):
        path = os.path.join(directory or self.root, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)
        return path

    def read_message(self):
        return json.loads(self.process.stdout.readline())

    def launch(self, path, body=b"", env=None, with_input=True):
        """Asks for ``path`` as the front does; returns (token, stdin, stdout, stderr) connections (stdin None without input)."""
        self.tokens += 1
        token = str(self.tokens)
        request = {"token": token, "path": path, "cwd": os.path.dirname(path), "env": env or {"PATH": "/usr/bin:/bin"}}
        if not with_input:
            request["stdin"] = False
        self.process.stdin.write(json.dumps(request).encode() + b"\n")
        self.process.stdin.flush()
        if not with_input:
            return (token, None, self.connect("O", token), self.connect("E", token))
        stdin, stdout, stderr = (self.connect(role, token) for role in "IOE")
        try:
            stdin.sendall(body)
            stdin.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # a refused script's connections are closed at once: the test reads why
        return token, stdin, stdout, stderr

    def connect(self, role, token):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(self.socket_path)
        conn.sendall(("%s %s\n" % (role, token)).encode())
        return conn

    @staticmethod
    def read_all(conn):
        chunks = []
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                conn.close()
                return b"".join(chunks)
            chunks.append(chunk)

    def messages_for(self, token, count):
        found = []
        while len(found) < count:
            message = self.read_message()
            if message.get("token") == token:
                found.append(message)
        return found

    def test_runs_a_script_with_the_body_after_the_role_line_as_its_stdin(self):
        path = self.script("cat.sh", "#!/bin/sh\ncat\necho err >&2\nexit 3\n")
        body = b"I 9\nnot a role line, the body\n" * 1000
        token, stdin, stdout, stderr = self.launch(path, body)
        self.assertEqual(self.read_all(stdout), body)
        self.assertEqual(self.read_all(stderr), b"err\n")
        started, ended = self.messages_for(token, 2)
        self.assertGreater(started["pid"], 0)
        self.assertEqual(ended, {"token": token, "status": 3})
        stdin.close()

    def test_gives_a_request_without_input_dev_null_as_stdin(self):
        path = self.script("stdin.sh", "#!/bin/sh\nreadlink /proc/self/fd/0\ncat\necho done\n")
        token, stdin, stdout, stderr = self.launch(path, with_input=False)
        self.assertEqual(self.read_all(stdout), b"/dev/null\ndone\n")
        self.assertEqual(self.read_all(stderr), b"")
        started, ended = self.messages_for(token, 2)
        self.assertGreater(started["pid"], 0)
        self.assertEqual(ended, {"token": token, "status": 0})

    def test_reports_a_death_by_signal_as_minus_the_signal(self):
        path = self.script("die.sh", "#!/bin/sh\nkill -TERM $$\n")
        token, stdin, stdout, stderr = self.launch(path)
        self.read_all(stdout)
        self.assertEqual(self.messages_for(token, 2)[1]["status"], -signal.SIGTERM)
        stdin.close()
        stderr.close()

    def test_runs_the_script_in_its_directory_in_a_session_of_its_own(self):
        path = self.script("where.sh", "#!/bin/sh\npwd\ncut -d' ' -f6 /proc/$$/stat\n")
        token, stdin, stdout, stderr = self.launch(path)
        cwd, session = self.read_all(stdout).decode().split()
        pid = self.messages_for(token, 1)[0]["pid"]
        self.assertEqual(cwd, self.root)
        self.assertEqual(int(session), pid)
        for conn in (stdin, stderr):
            conn.close()

    def test_refuses_a_path_outside_its_root(self):
        outside = self.script("outside.sh", "#!/bin/sh\ntouch %s/ran\n" % self.base, directory=self.base)
        token, stdin, stdout, stderr = self.launch(outside)
        message = self.messages_for(token, 1)[0]
        self.assertIn("outside the CGI directory", message["error"])
        self.assertEqual(self.read_all(stdout), b"")
        self.assertFalse(os.path.exists(os.path.join(self.base, "ran")))
        for conn in (stdin, stderr):
            conn.close()

    def test_reports_a_file_the_kernel_cannot_execute_and_never_hands_it_to_a_shell(self):
        path = self.script("no-shebang", "touch %s/ran\n" % self.base)
        token, stdin, stdout, stderr = self.launch(path)
        self.assertIn("error", self.messages_for(token, 1)[0])
        self.assertFalse(os.path.exists(os.path.join(self.base, "ran")))
        for conn in (stdin, stdout, stderr):
            conn.close()

    def test_exits_when_the_front_closes_its_input(self):
        self.process.stdin.close()
        self.assertEqual(self.process.wait(timeout=10), 0)


if __name__ == "__main__":
    unittest.main()
