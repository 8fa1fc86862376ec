"""is_asgi() and choose_interface(): --interface auto."""
import asyncio
import functools
import unittest

import test_asgi_fakes  # noqa: F401  (makes portico importable)

from portico.asgi.detect import choose_interface, is_asgi
from portico.errors import AppLoadError


async def asgi_function(scope, receive, send):
    pass


def wsgi_function(environ, start_response):
    return []


class AsyncCallable:
    """The shape of a FastAPI/Starlette/Quart instance."""

    async def __call__(self, scope, receive, send):
        pass


class DjangoLikeASGIHandler:
    """django.core.handlers.asgi.ASGIHandler: a class whose instances have
    an async __call__ (and a sync __init__ that loads middleware)."""

    def __init__(self):
        self.middleware = []

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError("Django can only handle ASGI/HTTP connections, not %s." % scope["type"])


class FlaskLike:
    def __call__(self, environ, start_response):
        return []


class IsASGITest(unittest.TestCase):
    def test_async_function(self):
        self.assertTrue(is_asgi(asgi_function))

    def test_sync_function(self):
        self.assertFalse(is_asgi(wsgi_function))

    def test_instance_with_async_call(self):
        self.assertTrue(is_asgi(AsyncCallable()))

    def test_django_asgi_handler_instance(self):
        self.assertTrue(is_asgi(DjangoLikeASGIHandler()))

    def test_instance_with_sync_call(self):
        self.assertFalse(is_asgi(FlaskLike()))

    def test_classes_are_not_asgi_3_applications(self):
        self.assertFalse(is_asgi(AsyncCallable))
        self.assertFalse(is_asgi(FlaskLike))

    def test_partials_are_unwrapped(self):
        self.assertTrue(is_asgi(functools.partial(asgi_function)))
        self.assertTrue(is_asgi(functools.partial(functools.partial(AsyncCallable()))))
        self.assertFalse(is_asgi(functools.partial(wsgi_function)))

    def test_bound_async_method(self):
        self.assertTrue(is_asgi(AsyncCallable().__call__))

    def test_sync_function_marked_as_coroutine_function(self):
        # asgiref.sync.markcoroutinefunction, as Django uses it.
        def app(scope, receive, send):
            return asgi_function(scope, receive, send)
        marker = getattr(asyncio.coroutines, "_is_coroutine", None)
        if marker is None:
            import inspect
            if not hasattr(inspect, "markcoroutinefunction"):
                self.skipTest("no coroutine marker on this Python")
            inspect.markcoroutinefunction(app)
        else:
            app._is_coroutine = marker
        self.assertTrue(is_asgi(app))

    def test_not_callable(self):
        self.assertFalse(is_asgi(None))
        self.assertFalse(is_asgi(42))


class ChooseInterfaceTest(unittest.TestCase):
    def test_auto_detects(self):
        self.assertEqual(choose_interface(asgi_function, "auto"), "asgi")
        self.assertEqual(choose_interface(AsyncCallable(), "auto"), "asgi")
        self.assertEqual(choose_interface(wsgi_function, "auto"), "wsgi")
        self.assertEqual(choose_interface(FlaskLike()), "wsgi")

    def test_asgi_is_trusted(self):
        self.assertEqual(choose_interface(wsgi_function, "asgi"), "asgi")

    def test_wsgi_for_a_wsgi_app(self):
        self.assertEqual(choose_interface(wsgi_function, "wsgi"), "wsgi")

    def test_wsgi_for_an_asgi_app_is_a_boot_error(self):
        with self.assertRaises(AppLoadError) as caught:
            choose_interface(AsyncCallable(), "wsgi")
        self.assertEqual(caught.exception.code, "APP_INTERFACE_MISMATCH")
        self.assertIn("--interface asgi", caught.exception.text)

    def test_unknown_interface(self):
        with self.assertRaises(ValueError):
            choose_interface(wsgi_function, "asgi2")


if __name__ == "__main__":
    unittest.main()
