"""The worker config table: defaults, checks, and what it refuses."""
import json
import unittest

import support  # noqa: F401 - makes portico importable
from portico.errors import AppLoadError
from portico.interfaces import INTERFACES, capabilities, interface_for
from portico.codec import ASGI, CAP_ASGI, CAP_WEBSOCKET, CAP_WSGI
from portico.worker_config import FIELDS, INTERFACE_NAMES, WorkerConfig


def parse(**values):
    return WorkerConfig.from_json(json.dumps(values))


class WorkerConfigTest(unittest.TestCase):
    def test_defaults(self):
        config = parse(app="a:b")
        self.assertEqual((config.app, config.pythonpath, config.threads, config.multiprocess, config.debug,
                          config.interface, config.asgiLifespan), ("a:b", [], 1, True, False, "wsgi", "auto"))

    def test_every_field_is_read(self):
        config = parse(app="a:b", pythonpath=["lib"], threads=4, multiprocess=False, debug=True,
                       interface="asgi", asgiLifespan="on")
        self.assertEqual((config.pythonpath, config.threads, config.multiprocess, config.debug, config.interface,
                          config.asgiLifespan), (["lib"], 4, False, True, "asgi", "on"))

    def test_unknown_keys_are_ignored(self):
        self.assertEqual(parse(app="a:b", newer_setting=1).app, "a:b")

    def test_a_list_default_is_not_shared(self):
        parse(app="a:b").pythonpath.append("x")
        self.assertEqual(parse(app="a:b").pythonpath, [])

    def test_refusals_name_the_field_and_what_it_must_be(self):
        cases = [
            ({}, 'the worker config needs "app", a non-empty string'),
            ({"app": " "}, '"app" must be a non-empty string, got " "'),
            ({"app": "a:b", "pythonpath": "lib"}, '"pythonpath" must be a list of strings'),
            ({"app": "a:b", "threads": 0}, '"threads" must be an integer >= 1'),
            ({"app": "a:b", "threads": True}, '"threads" must be an integer >= 1'),
            ({"app": "a:b", "multiprocess": "yes"}, '"multiprocess" must be true or false'),
            ({"app": "a:b", "debug": "yes"}, '"debug" must be true or false'),
            ({"app": "a:b", "interface": "rsgi"}, '"interface" must be one of "auto", "wsgi", "asgi", got "rsgi"'),
            ({"app": "a:b", "asgiLifespan": True}, '"asgiLifespan" must be one of "auto", "on", "off", got true'),
        ]
        for values, message in cases:
            with self.subTest(values):
                with self.assertRaises(ValueError) as caught:
                    WorkerConfig.from_json(json.dumps(values))
                self.assertIn(message, str(caught.exception))

    def test_not_json_and_not_an_object(self):
        for text, message in (("{", "not JSON"), ("[]", "must be a JSON object")):
            with self.subTest(text):
                with self.assertRaisesRegex(ValueError, message):
                    WorkerConfig.from_json(text)

    def test_the_table_declares_each_field_once(self):
        names = [field.name for field in FIELDS]
        self.assertEqual(len(names), len(set(names)))
        self.assertTrue(all(field.help for field in FIELDS))


class InterfacesTest(unittest.TestCase):
    def test_every_served_interface_is_one_the_config_accepts(self):
        self.assertLessEqual(set(INTERFACES), set(INTERFACE_NAMES) - {"auto"})

    def test_wsgi_is_served_and_advertised(self):
        self.assertIn("wsgi", INTERFACES)
        self.assertTrue(capabilities() & CAP_WSGI)

    def test_asgi_is_served_and_advertised_and_flagged_in_ready(self):
        # The ASGI loop serves the websocket scope too.
        self.assertEqual(capabilities(), CAP_WSGI | CAP_ASGI | CAP_WEBSOCKET)
        self.assertEqual((INTERFACES["asgi"].ready_flags, INTERFACES["wsgi"].ready_flags), (ASGI, 0))

    def test_auto_tells_by_the_application(self):
        async def asgi_app(scope, receive, send):
            pass

        def wsgi_app(environ, start_response):
            return []
        self.assertIs(interface_for("auto", wsgi_app), INTERFACES["wsgi"])
        self.assertIs(interface_for("auto", asgi_app), INTERFACES["asgi"])
        self.assertIs(interface_for("asgi", wsgi_app), INTERFACES["asgi"])

    def test_wsgi_for_an_asgi_application_is_a_boot_error(self):
        async def asgi_app(scope, receive, send):
            pass
        with self.assertRaises(AppLoadError) as caught:
            interface_for("wsgi", asgi_app)
        self.assertEqual(caught.exception.code, "APP_INTERFACE_MISMATCH")

    def test_an_interface_the_config_takes_but_nothing_serves_is_a_boot_error(self):
        unserved = [name for name in INTERFACE_NAMES if name != "auto" and name not in INTERFACES]
        for name in unserved:
            with self.subTest(name):
                with self.assertRaises(AppLoadError) as caught:
                    interface_for(name, object())
                self.assertEqual(caught.exception.code, "APP_INTERFACE_UNSERVED")
                self.assertIn('does not serve the "%s" interface' % name, caught.exception.text)

    def test_wsgi_picks_its_loop_from_threads(self):
        wsgi = INTERFACES["wsgi"]
        self.assertEqual(type(wsgi.make_loop(None, parse(app="a:b"))).__name__, "InlineLoop")
        self.assertEqual(type(wsgi.make_loop(None, parse(app="a:b", threads=3))).__name__, "ThreadPoolLoop")
        executor = wsgi.make_executor(lambda environ, start_response: [], parse(app="a:b", threads=3))
        self.assertTrue(executor._wsgi_keys["wsgi.multithread"])


if __name__ == "__main__":
    unittest.main()
