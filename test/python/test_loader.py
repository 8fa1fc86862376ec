"""Application specs: every accepted form, and every way loading can fail
with the message the user sees in BOOT_ERROR."""
import os
import platform
import shutil
import sys
import tempfile
import textwrap
import unittest

import support
from portico.errors import AppLoadError
from portico.loader import load_app

APP_SOURCE = '''
def application(environ, start_response):
    start_response("200 OK", [])
    return [b"application"]

def app(environ, start_response):
    start_response("200 OK", [])
    return [b"app"]

class Holder:
    def wsgi(self, environ, start_response):
        start_response("200 OK", [])
        return [b"holder.wsgi"]

holder = Holder()
calls = []

def create_app(*args, **kwargs):
    calls.append((args, kwargs))
    def made(environ, start_response):
        start_response("200 OK", [])
        return [repr((args, kwargs)).encode()]
    return made

def broken_factory():
    raise ValueError("factory refuses")

def none_factory():
    return None

number = 42
'''


def call(app):
    return b"".join(app({}, lambda status, headers: None))


class LoaderCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="portico-loader-")
        self.addCleanup(shutil.rmtree, self.dir)
        self.saved_path = list(sys.path)
        self.saved_modules = set(sys.modules)
        self.saved_cwd = os.getcwd()
        sys.path.insert(0, self.dir)
        os.chdir(self.dir)
        self.addCleanup(self.restore)

    def restore(self):
        os.chdir(self.saved_cwd)
        sys.path[:] = self.saved_path
        for name in set(sys.modules) - self.saved_modules:
            del sys.modules[name]

    def write(self, relpath, source):
        path = os.path.join(self.dir, relpath)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(source))
        return path

    def failure(self, spec, code):
        with self.assertRaises(AppLoadError) as caught:
            load_app(spec)
        error = caught.exception
        self.assertEqual(error.code, code, error.text)
        hint = error.text.splitlines()[-1]
        self.assertTrue(hint.startswith("portico: could not load the application %r with %s (Python %s): "
                                        % (spec, sys.executable, platform.python_version())), hint)
        return error.text, hint


class SpecFormsTest(LoaderCase):
    def setUp(self):
        super().setUp()
        self.write("myapp.py", APP_SOURCE)
        self.write("pkg/__init__.py", "")
        self.write("pkg/sub.py", APP_SOURCE)

    def test_module_colon_name(self):
        self.assertEqual(call(load_app("myapp:app")), b"app")

    def test_module_alone_means_application(self):
        self.assertEqual(call(load_app("myapp")), b"application")
        self.assertEqual(call(load_app("pkg.sub")), b"application")

    def test_dotted_package_and_dotted_attribute(self):
        self.assertEqual(call(load_app("pkg.sub:holder.wsgi")), b"holder.wsgi")

    def test_factory_without_arguments(self):
        self.assertEqual(call(load_app("myapp:create_app()")), b"((), {})")

    def test_factory_with_literal_arguments(self):
        app = load_app("myapp:create_app('x:y', 2, debug=True, opts={'a': [1, None]}, neg=-1.5)")
        self.assertEqual(call(app), repr((("x:y", 2), {"debug": True, "opts": {"a": [1, None]}, "neg": -1.5})).encode())

    def test_factory_is_called_once(self):
        load_app("myapp:create_app()")
        import myapp
        self.assertEqual(len(myapp.calls), 1)

    def test_script_file(self):
        self.write("scripts/site.wsgi", APP_SOURCE)
        self.assertEqual(call(load_app("scripts/site.wsgi")), b"application")

    def test_script_file_with_name_and_factory(self):
        self.write("site.py", APP_SOURCE)
        self.assertEqual(call(load_app("site.py:app")), b"app")
        self.assertEqual(call(load_app("site.py:create_app(1)")), b"((1,), {})")

    def test_script_module_has_file_and_a_unique_name(self):
        a = self.write("a/app.py", APP_SOURCE + "\nMARK = 'a'\n")
        b = self.write("b/app.py", APP_SOURCE + "\nMARK = 'b'\n")
        app_a = load_app(a)
        app_b = load_app(b)
        mod_a = sys.modules[app_a.__module__]
        mod_b = sys.modules[app_b.__module__]
        self.assertEqual((mod_a.MARK, mod_b.MARK), ("a", "b"))
        self.assertEqual(mod_a.__file__, a)
        self.assertNotEqual(mod_a.__name__, mod_b.__name__)

    def test_wsgi_script_leaves_no_bytecode_cache(self):
        self.write("site.wsgi", APP_SOURCE)
        load_app("site.wsgi")
        self.assertFalse(os.path.exists(os.path.join(self.dir, "__pycache__")))

    def test_fixture_apps(self):
        sys.path.insert(0, support.FIXTURE_APPS)
        self.assertTrue(callable(load_app("hello_app:create_app()")))
        self.assertTrue(callable(load_app(os.path.join(support.FIXTURE_APPS, "hello.wsgi"))))


class FailureTest(LoaderCase):
    def test_module_not_found(self):
        text, hint = self.failure("nosuchmodule:app", "APP_MODULE_NOT_FOUND")
        self.assertIn("ModuleNotFoundError: No module named 'nosuchmodule'", text)
        self.assertIn("no module named 'nosuchmodule' on sys.path", hint)
        self.assertTrue(hint.endswith("check --python, --chdir and --pythonpath"))

    def test_package_of_the_module_not_found(self):
        _, hint = self.failure("nopkg.mod:app", "APP_MODULE_NOT_FOUND")
        self.assertIn("'nopkg'", hint)

    def test_import_error_inside_the_app_is_not_module_not_found(self):
        self.write("needsdeps.py", "import flask_that_is_not_installed\n")
        text, hint = self.failure("needsdeps:app", "APP_IMPORT_FAILED")
        self.assertIn('needsdeps.py", line 1', text)
        self.assertIn("importing the module needsdeps raised ModuleNotFoundError: "
                      "No module named 'flask_that_is_not_installed'", hint)

    def test_syntax_error(self):
        self.write("badsyntax.py", "def application(environ, start_response)\n    pass\n")
        text, hint = self.failure("badsyntax", "APP_SYNTAX_ERROR")
        self.assertIn("SyntaxError", text)
        self.assertIn('badsyntax.py", line 1', text)

    def test_raises_at_import(self):
        sys.path.insert(0, support.FIXTURE_APPS)
        text, hint = self.failure("raises_on_import", "APP_IMPORT_FAILED")
        self.assertIn("RuntimeError: raises_on_import: refusing to load", text)
        self.assertIn("Traceback (most recent call last)", text)

    def test_sys_exit_at_import(self):
        self.write("exits.py", "import sys\nsys.exit(3)\n")
        self.failure("exits", "APP_IMPORT_FAILED")

    def test_missing_attribute(self):
        self.write("myapp.py", APP_SOURCE)
        _, hint = self.failure("myapp:nothing", "APP_ATTRIBUTE_MISSING")
        self.assertIn("the module myapp has no attribute nothing", hint)
        _, hint = self.failure("myapp:holder.nothing", "APP_ATTRIBUTE_MISSING")
        self.assertIn("has no attribute holder.nothing", hint)

    def test_not_callable(self):
        self.write("myapp.py", APP_SOURCE)
        _, hint = self.failure("myapp:number", "APP_NOT_CALLABLE")
        self.assertIn("number is an int, not a WSGI callable", hint)
        _, hint = self.failure("myapp:none_factory()", "APP_NOT_CALLABLE")
        self.assertIn("NoneType", hint)
        sys.path.insert(0, support.FIXTURE_APPS)
        self.failure("not_callable", "APP_NOT_CALLABLE")

    def test_factory_raising(self):
        self.write("myapp.py", APP_SOURCE)
        text, hint = self.failure("myapp:broken_factory()", "APP_FACTORY_FAILED")
        self.assertIn("ValueError: factory refuses", text)
        self.assertIn("the factory broken_factory() raised ValueError: factory refuses", hint)

    def test_non_literal_factory_arguments_are_refused_not_evaluated(self):
        self.write("myapp.py", APP_SOURCE)
        self.failure("myapp:create_app(__import__('os').getpid())", "APP_SPEC_INVALID")
        self.failure("myapp:create_app(**{'a': 1})", "APP_SPEC_INVALID")
        import myapp
        self.assertEqual(myapp.calls, [])

    def test_malformed_specs(self):
        self.write("myapp.py", APP_SOURCE)
        for spec in (":app", "myapp:", "myapp:1+1", "myapp:a[0]", "myapp:app(", "myapp:lambda: 0"):
            with self.subTest(spec):
                if spec == "myapp:":
                    self.assertTrue(callable(load_app(spec)))  # empty name = application
                    continue
                self.failure(spec, "APP_SPEC_INVALID")

    def test_script_file_not_found(self):
        _, hint = self.failure("missing/app.py", "APP_FILE_NOT_FOUND")
        self.assertIn(os.path.join(self.dir, "missing", "app.py"), hint)

    def test_script_file_with_syntax_error(self):
        self.write("broken.wsgi", "def application(:\n")
        text, _ = self.failure("broken.wsgi", "APP_SYNTAX_ERROR")
        self.assertIn('broken.wsgi", line 1', text)
        self.assertFalse([m for m in sys.modules if m.startswith("_portico_script_")
                          and m not in self.saved_modules])

    def test_script_file_raising(self):
        self.write("raises.py", "raise KeyError('nope')\n")
        text, _ = self.failure("raises.py", "APP_IMPORT_FAILED")
        self.assertIn("KeyError: 'nope'", text)


if __name__ == "__main__":
    unittest.main()
