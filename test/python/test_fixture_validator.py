"""The fixture apps' validator turns wsgiref.validate's warnings into
errors, so that a PEP 3333 point it only warns about fails a test."""
import io
import sys
import unittest
import warnings
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import WSGIWarning

import support

sys.path.insert(0, support.FIXTURE_APPS)

import fixture_support  # noqa: E402


def _environ(**overrides):
    environ = {'wsgi.input': io.BytesIO(), 'wsgi.errors': io.StringIO(), 'QUERY_STRING': ''}
    setup_testing_defaults(environ)
    environ.update(overrides)
    return environ


def _app(status='200 OK'):
    def app(environ, start_response):
        start_response(status, [('Content-Type', 'text/plain')])
        return [b'ok']
    return fixture_support.validator(app)


def _call(app, environ):
    result = app(environ, lambda status, headers, exc_info=None: None)
    try:
        return b''.join(result)
    finally:
        result.close()


class FixtureValidatorTest(unittest.TestCase):
    def setUp(self):
        # validator() sets a process-wide filter: keep it to this test.
        guard = warnings.catch_warnings()
        guard.__enter__()
        self.addCleanup(guard.__exit__, None, None, None)

    def test_a_complete_environ_passes(self):
        self.assertEqual(_call(_app(), _environ()), b'ok')

    def test_a_missing_query_string_raises(self):
        environ = _environ()
        del environ['QUERY_STRING']
        with self.assertRaisesRegex(WSGIWarning, 'QUERY_STRING'):
            _call(_app(), environ)

    def test_an_unknown_method_raises(self):
        with self.assertRaisesRegex(WSGIWarning, 'REQUEST_METHOD'):
            _call(_app(), _environ(REQUEST_METHOD='PROPFIND'))

    def test_a_status_without_a_reason_raises(self):
        with self.assertRaisesRegex(WSGIWarning, 'status string'):
            _call(_app(status='200'), _environ())


if __name__ == '__main__':
    unittest.main()
