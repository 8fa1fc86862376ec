"""Application spec -> WSGI callable.

Accepted specs:
    pkg.mod:name          an attribute (dotted: ``mod:obj.wsgi_app``)
    pkg.mod               the callable ``application``
    mod:create_app()      a factory, called once per worker; arguments must
    mod:make('x', debug=True)   be literals (parsed with ast, never eval)
    path/to/app.py        a script file, like mod_wsgi's WSGIScriptAlias
    path/to/app.wsgi      target: run under a unique module name, __file__
    app.py:name           set, callable ``application`` unless named

Every failure raises AppLoadError whose text is the Python traceback, then one
line saying what went wrong, with which interpreter, and what to check.
"""
from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys

from .errors import AppLoadError

DEFAULT_CALLABLE = "application"
SCRIPT_SUFFIXES = (".py", ".wsgi")

_PATHS_ADVICE = "check --python, --chdir and --pythonpath"


def load_app(spec: str):
    """The WSGI callable named by ``spec``; raises AppLoadError."""
    target, _, expr = spec.strip().partition(":")
    if not target:
        raise _failure("APP_SPEC_INVALID", spec, "it names no module or file",
                       "use module:callable, module, 'module:factory()' or a path to a .py/.wsgi file")
    names, call = _parse_expr(spec, expr.strip() or DEFAULT_CALLABLE)
    if _names_a_file(target):
        module = _load_script(spec, target)
        where = "the file %s" % target
    else:
        module = _import_module(spec, target)
        where = "the module %s" % target
    obj = module
    for depth, name in enumerate(names):
        try:
            obj = getattr(obj, name)
        except AttributeError:
            raise _failure("APP_ATTRIBUTE_MISSING", spec,
                           "%s has no attribute %s" % (where, ".".join(names[:depth + 1])),
                           "check the name after ':'", sys.exc_info()) from None
    if call is not None:
        args, kwargs = call
        if not callable(obj):
            raise _failure("APP_NOT_CALLABLE", spec,
                           "the factory %s is %s, not a callable" % (expr.strip(), _a(obj)),
                           "check the name after ':'")
        try:
            obj = obj(*args, **kwargs)
        except (Exception, SystemExit):
            raise _failure("APP_FACTORY_FAILED", spec,
                           "the factory %s raised %s" % (expr.strip(), _exc_line()),
                           "fix the error above", sys.exc_info()) from None
    if not callable(obj):
        reason = "%s is %s, not a WSGI callable" % (expr.strip() or DEFAULT_CALLABLE, _a(obj))
        try:
            raise TypeError(reason)
        except TypeError:
            raise _failure("APP_NOT_CALLABLE", spec, reason, "check the name after ':'", sys.exc_info()) from None
    return obj


def _names_a_file(target: str) -> bool:
    """A path, or a .py/.wsgi file that exists; otherwise a dotted module
    name, so that Django's ``proj.wsgi`` is imported, not opened."""
    if "/" in target or os.sep in target:
        return True
    return target.endswith(SCRIPT_SUFFIXES) and os.path.isfile(target)


def _parse_expr(spec: str, expr: str):
    """``name.attr`` or ``factory(literal, key=literal)`` -> (names, call)."""
    names = expr.split(".")
    if all(name.isidentifier() for name in names):
        return names, None  # the usual case, without loading the parser into every worker
    import ast  # only factories need it; it costs a worker memory
    try:
        node = ast.parse(expr, mode="eval").body
    except SyntaxError:
        raise _bad_expr(spec, expr) from None
    call = None
    if isinstance(node, ast.Call):
        try:
            args = [ast.literal_eval(arg) for arg in node.args]
            kwargs = {}
            for keyword in node.keywords:
                if keyword.arg is None:
                    raise ValueError("**kwargs")
                kwargs[keyword.arg] = ast.literal_eval(keyword.value)
        except ValueError:
            raise _failure("APP_SPEC_INVALID", spec,
                           "the factory arguments in %r are not all literals" % expr,
                           "pass only strings, numbers, True/False/None, lists, tuples and dicts") from None
        call = (args, kwargs)
        node = node.func
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise _bad_expr(spec, expr)
    names.append(node.id)
    names.reverse()
    return names, call


def _bad_expr(spec: str, expr: str) -> AppLoadError:
    return _failure("APP_SPEC_INVALID", spec, "%r is not a name or a factory call" % expr,
                    "use module:callable, module, 'module:factory()' or a path to a .py/.wsgi file")


def _import_module(spec: str, target: str):
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if target == missing or target.startswith(missing + "."):
            # The app module (or a package on its way) is not on sys.path.
            raise _failure("APP_MODULE_NOT_FOUND", spec,
                           "no module named %r on sys.path" % missing, _PATHS_ADVICE,
                           sys.exc_info()) from None
        # The app module was found; something it imports was not.
        raise _failure("APP_IMPORT_FAILED", spec,
                       "importing the module %s raised %s" % (target, _exc_line()),
                       "install what it imports for this Python, or " + _PATHS_ADVICE,
                       sys.exc_info()) from None
    except SyntaxError:
        raise _failure("APP_SYNTAX_ERROR", spec,
                       "the module %s (or one it imports) has a syntax error" % target,
                       "fix the error above", sys.exc_info()) from None
    except (Exception, SystemExit):
        raise _failure("APP_IMPORT_FAILED", spec,
                       "importing the module %s raised %s" % (target, _exc_line()),
                       "fix the error above", sys.exc_info()) from None


class _ScriptLoader(importlib.machinery.SourceFileLoader):
    """Compiles the script afresh, as mod_wsgi does: a bytecode cache for
    app.wsgi would be named like the one for an app.py beside it."""

    def get_code(self, fullname):
        return self.source_to_code(self.get_data(self.path), self.path)


def _load_script(spec: str, target: str):
    path = os.path.abspath(target)
    if not os.path.isfile(path):
        raise _failure("APP_FILE_NOT_FOUND", spec, "no such file: %s" % path,
                       "check the path and --chdir")
    # mod_wsgi names a script's module after its path, so two apps with the
    # same file name never share a sys.modules entry.
    # A name, not a secret: the path itself, spelled as an identifier, and a
    # CRC of its bytes to tell apart paths that spell alike (/a-b, /a_b).
    # No hash from OpenSSL, which md5(usedforsecurity=False) needs 3.9 for.
    import zlib
    spelled = "".join(c if c.isalnum() else "_" for c in path)
    name = "_portico_script_%s_%08x" % (spelled, zlib.crc32(os.fsencode(path)))
    loader_class = importlib.machinery.SourceFileLoader if path.endswith(".py") else _ScriptLoader
    loader = loader_class(name, path)
    module_spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(module_spec)
    # In sys.modules while it runs, as for an import: pickle, dataclasses
    # and typing look the module up by name.
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    except SyntaxError:
        del sys.modules[name]
        raise _failure("APP_SYNTAX_ERROR", spec, "the file %s (or a module it imports) has a syntax error"
                       % target, "fix the error above", sys.exc_info()) from None
    except (Exception, SystemExit):
        del sys.modules[name]
        raise _failure("APP_IMPORT_FAILED", spec, "running the file %s raised %s" % (target, _exc_line()),
                       "fix the error above, or " + _PATHS_ADVICE, sys.exc_info()) from None
    return module


def _failure(code: str, spec: str, reason: str, advice: str, exc_info=None) -> AppLoadError:
    # Whatever the failure, the interpreter and the three options that decide
    # what it can import are the first things to check.
    if _PATHS_ADVICE not in advice:
        advice += "; if this is the wrong interpreter or directory, " + _PATHS_ADVICE
    hint = "portico: could not load the application %r with %s (Python %s): %s; %s" % (
        spec, sys.executable, "%d.%d.%d" % sys.version_info[:3], reason, advice)
    if exc_info is None:
        return AppLoadError(code, hint)
    return AppLoadError(code, _user_traceback(exc_info) + hint)


def _user_traceback(exc_info) -> str:
    """The traceback from the first frame of the application's own code:
    the loader's and importlib's frames before it say nothing to the user
    (when all of them are, as for a syntax error or a module that is simply
    missing, the last one is kept, so that there always is a traceback)."""
    import traceback  # only failures need it; it costs a worker ~0.6 MiB (executor._error_text)
    exc_type, exc, tb = exc_info
    last = tb
    while tb is not None and _is_machinery(tb.tb_frame.f_code.co_filename):
        last = tb
        tb = tb.tb_next
    return "".join(traceback.format_exception(exc_type, exc, tb if tb is not None else last))


def _is_machinery(filename: str) -> bool:
    return (filename == __file__ or filename.startswith("<frozen importlib")
            or os.path.basename(os.path.dirname(filename)) == "importlib")


def _exc_line() -> str:
    import traceback  # see _user_traceback
    return traceback.format_exception_only(*sys.exc_info()[:2])[-1].strip()


def _a(obj) -> str:
    name = type(obj).__name__
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name
