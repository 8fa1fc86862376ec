"""Lifespan: startup and shutdown (lifespan spec 2.0), --lifespan auto|on|off."""
import asyncio
import unittest

from test_asgi_fakes import make_head

from portico.asgi.errors import ASGIViolation, LifespanFailed
from portico.asgi.lifespan import Lifespan
from portico.asgi.scope import http_scope
from portico.errors import AppLoadError


def lifespan_app(record, on_startup=None, on_shutdown=None):
    """The spec's example application, recording what it sees."""
    async def app(scope, receive, send):
        record.append(("scope", scope["type"], scope["asgi"]))
        while True:
            message = await receive()
            record.append(message["type"])
            if message["type"] == "lifespan.startup":
                if on_startup is not None:
                    await on_startup(scope, send)
                else:
                    await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if on_shutdown is not None:
                    await on_shutdown(scope, send)
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                return
    return app


async def django_like(scope, receive, send):
    if scope["type"] != "http":
        raise ValueError("Django can only handle ASGI/HTTP connections, not %s." % scope["type"])


class LifespanTest(unittest.IsolatedAsyncioTestCase):
    def make(self, app, mode="auto"):
        self.logs = []
        return Lifespan(app, mode, log=lambda level, text: self.logs.append((level, text)))

    async def test_startup_and_shutdown(self):
        record = []
        lifespan = self.make(lifespan_app(record))
        await lifespan.startup()
        self.assertTrue(lifespan.supported)
        self.assertEqual(record, [("scope", "lifespan", {"version": "3.0", "spec_version": "2.0"}),
                                  "lifespan.startup"])
        await lifespan.shutdown()
        self.assertEqual(record[-1], "lifespan.shutdown")
        self.assertEqual(self.logs, [])

    async def test_on_mode_with_a_supporting_app(self):
        lifespan = self.make(lifespan_app([]), "on")
        await lifespan.startup()
        self.assertTrue(lifespan.supported)
        await lifespan.shutdown()

    async def test_off_never_calls_the_app(self):
        record = []
        lifespan = self.make(lifespan_app(record), "off")
        await lifespan.startup()
        await lifespan.shutdown()
        self.assertEqual(record, [])
        self.assertFalse(lifespan.supported)

    async def test_state_is_shared_with_requests(self):
        async def on_startup(scope, send):
            scope["state"]["pool"] = "the pool"
            await send({"type": "lifespan.startup.complete"})
        lifespan = self.make(lifespan_app([], on_startup))
        await lifespan.startup()
        scope = http_scope(make_head(), lifespan.state)
        self.assertEqual(scope["state"], {"pool": "the pool"})
        scope["state"]["pool"] = "replaced by a request"
        self.assertEqual(lifespan.state["pool"], "the pool")
        await lifespan.shutdown()

    async def test_auto_carries_on_when_the_app_raises_on_the_scope(self):
        lifespan = self.make(django_like)
        await lifespan.startup()
        self.assertFalse(lifespan.supported)
        self.assertEqual(len(self.logs), 1)
        level, text = self.logs[0]
        self.assertEqual(level, "debug")
        self.assertIn("does not support lifespan", text)
        self.assertIn("ValueError: Django can only handle ASGI/HTTP connections", text)
        self.assertNotIn("\n", text)
        await lifespan.shutdown()
        self.assertEqual(len(self.logs), 1)

    async def test_auto_carries_on_when_the_app_returns_at_once(self):
        async def app(scope, receive, send):
            if scope["type"] != "http":
                return
        lifespan = self.make(app)
        await lifespan.startup()
        self.assertFalse(lifespan.supported)
        self.assertEqual([level for level, _ in self.logs], ["debug"])
        self.assertIn("returned without answering lifespan.startup", self.logs[0][1])

    async def test_on_mode_refuses_an_app_without_lifespan(self):
        lifespan = self.make(django_like, "on")
        with self.assertRaises(LifespanFailed) as caught:
            await lifespan.startup()
        error = caught.exception
        self.assertEqual(error.code, "ASGI_LIFESPAN_UNSUPPORTED")
        self.assertIsInstance(error, AppLoadError)  # the worker sends BOOT_ERROR for it
        self.assertIn("Traceback", error.text)
        self.assertIn("--asgi-lifespan on", error.text)
        self.assertIn("ValueError", error.message)

    async def test_on_mode_refuses_an_app_that_returns(self):
        async def app(scope, receive, send):
            await receive()
        with self.assertRaises(LifespanFailed) as caught:
            await self.make(app, "on").startup()
        self.assertEqual(caught.exception.code, "ASGI_LIFESPAN_UNSUPPORTED")
        self.assertIn("returned without answering", caught.exception.text)

    async def test_startup_failed_is_a_boot_error_in_every_mode(self):
        async def on_startup(scope, send):
            await send({"type": "lifespan.startup.failed", "message": "no database"})
        for mode in ("auto", "on"):
            with self.subTest(mode=mode):
                with self.assertRaises(LifespanFailed) as caught:
                    await self.make(lifespan_app([], on_startup), mode).startup()
                error = caught.exception
                self.assertEqual(error.code, "ASGI_LIFESPAN_STARTUP_FAILED")
                self.assertEqual(error.message, "no database")
                self.assertIn("lifespan.startup.failed", error.text)
                self.assertIn("no database", error.text)

    async def test_startup_failed_then_raised_reports_once(self):
        # Starlette sends lifespan.startup.failed with the traceback, then re-raises.
        async def on_startup(scope, send):
            await send({"type": "lifespan.startup.failed", "message": "Traceback ...\nOSError: refused"})
            raise OSError("refused")
        with self.assertRaises(LifespanFailed) as caught:
            await self.make(lifespan_app([], on_startup)).startup()
        self.assertIn("OSError: refused", caught.exception.text)
        await asyncio.sleep(0)
        self.assertEqual(self.logs, [])

    async def test_exception_in_startup_is_a_boot_error_in_every_mode(self):
        async def on_startup(scope, send):
            raise ConnectionRefusedError("db:5432")
        for mode in ("auto", "on"):
            with self.subTest(mode=mode):
                with self.assertRaises(LifespanFailed) as caught:
                    await self.make(lifespan_app([], on_startup), mode).startup()
                error = caught.exception
                self.assertEqual(error.code, "ASGI_LIFESPAN_STARTUP_ERROR")
                self.assertEqual(error.message, "ConnectionRefusedError: db:5432")
                self.assertIn("Traceback", error.traceback)
                self.assertIn("in on_startup", error.text)
                self.assertTrue(error.text.rstrip().endswith("during its lifespan startup"))

    async def test_an_out_of_order_message_is_a_violation(self):
        seen = []

        async def on_startup(scope, send):
            try:
                await send({"type": "lifespan.shutdown.complete"})
            except ASGIViolation as exc:
                seen.append(str(exc))
                raise
        with self.assertRaises(LifespanFailed) as caught:
            await self.make(lifespan_app([], on_startup)).startup()
        self.assertEqual(seen, ["unexpected lifespan message 'lifespan.shutdown.complete' during startup"])
        self.assertEqual(caught.exception.code, "ASGI_LIFESPAN_STARTUP_ERROR")

    async def test_shutdown_failed_is_logged(self):
        async def on_shutdown(scope, send):
            await send({"type": "lifespan.shutdown.failed", "message": "pool would not close"})
        lifespan = self.make(lifespan_app([], on_shutdown=on_shutdown))
        await lifespan.startup()
        await lifespan.shutdown()
        self.assertEqual(self.logs, [("error", "portico: the ASGI application's lifespan shutdown failed "
                                               "(lifespan.shutdown.failed): pool would not close")])

    async def test_exception_in_shutdown_is_logged(self):
        async def on_shutdown(scope, send):
            raise RuntimeError("close failed")
        lifespan = self.make(lifespan_app([], on_shutdown=on_shutdown))
        await lifespan.startup()
        await lifespan.shutdown()
        self.assertEqual(len(self.logs), 1)
        self.assertEqual(self.logs[0][0], "error")
        self.assertIn("Traceback", self.logs[0][1])
        self.assertIn("RuntimeError: close failed during its lifespan shutdown", self.logs[0][1])

    async def test_app_that_ends_its_lifespan_early(self):
        # It completed startup and returned: no shutdown can be delivered.
        async def app(scope, receive, send):
            await receive()
            await send({"type": "lifespan.startup.complete"})
        lifespan = self.make(app)
        await lifespan.startup()
        await asyncio.sleep(0)
        await lifespan.shutdown()
        self.assertEqual(self.logs, [])

    async def test_app_raising_while_running_is_logged(self):
        async def app(scope, receive, send):
            await receive()
            await send({"type": "lifespan.startup.complete"})
            raise RuntimeError("watchdog died")
        lifespan = self.make(app)
        await lifespan.startup()
        await asyncio.sleep(0)
        self.assertEqual(len(self.logs), 1)
        self.assertIn("RuntimeError: watchdog died", self.logs[0][1])
        await lifespan.shutdown()

    def test_unknown_mode(self):
        with self.assertRaises(ValueError):
            Lifespan(django_like, "maybe")


if __name__ == "__main__":
    unittest.main()
