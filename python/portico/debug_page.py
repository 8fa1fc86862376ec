"""The --debug error page: an application's exception as one self-contained
HTML page (inline CSS, no script), the job cgitb did until Python 3.13
removed it (PEP 594).

The executor renders it only with --debug, and only while no response head
has gone out. The page shows the exception and its chain (__cause__,
__context__), every frame with the source around the failing line and the
frame's locals, the plain traceback, and the request.

Everything on it comes from the application or the client, so every string
goes through html.escape(quote=True): the page shows the app's data, it must
never run it. And because it shows locals and the environ as they are,
secrets included, --debug is for a developer's machine, never for a server
that faces the internet.
"""
from __future__ import annotations

import builtins
import html
import linecache
import os
import reprlib
import sys
import traceback

from .error_reports import request_uri

CONTEXT_LINES = 5       # source lines shown either side of the failing one
MAX_REPR = 200          # characters of one value's repr
MAX_FRAMES = 100        # per exception; a deep recursion keeps both ends
MAX_LOCALS = 100        # per frame

_CAUSE = "The exception above was raised from this one (its direct cause):"
_CONTEXT = "The exception above happened while this one was being handled:"


# ------------------------------------------------------------------ values

def shorten(text: str, limit: int = MAX_REPR) -> str:
    if len(text) <= limit:
        return text
    return text[:limit - 3] + "..."


def _safe_str(value) -> str:
    try:
        return str(value)
    except Exception as exc:
        return "<str() failed: %s>" % type(exc).__name__


def _repr_failed(exc: BaseException) -> str:
    return shorten("<repr failed: %s: %s>" % (type(exc).__name__, _safe_str(exc)))


class _ShortRepr(reprlib.Repr):
    """reprlib's size limits, with a failing __repr__ reported, not hidden
    behind reprlib's '<X instance at 0x...>'."""

    def __init__(self) -> None:
        super().__init__()
        self.maxstring = MAX_REPR
        self.maxother = MAX_REPR
        self.maxlong = MAX_REPR

    def repr_instance(self, x, level):
        try:
            return shorten(builtins.repr(x), self.maxother)
        except Exception as exc:
            return _repr_failed(exc)


_REPR = _ShortRepr()


def short_repr(value) -> str:
    """A repr of at most MAX_REPR characters; never raises."""
    try:
        return shorten(_REPR.repr(value))
    except Exception as exc:
        # Also what a built-in repr may raise: ValueError for an int past
        # sys.get_int_max_str_digits() (3.11+), RecursionError.
        return _repr_failed(exc)


def _type_name(cls) -> str:
    # As traceback names it: builtins and __main__ go unqualified.
    module = getattr(cls, "__module__", None)
    name = getattr(cls, "__qualname__", None) or getattr(cls, "__name__", repr(cls))
    if module in (None, "builtins", "__main__"):
        return name
    return "%s.%s" % (module, name)


def _e(text) -> str:
    return html.escape(text, quote=True)


# ----------------------------------------------------------------- the page

def render_error_page(exc_info, environ: dict, close_exc_info=None) -> str:
    """The HTML page for ``exc_info`` (a sys.exc_info() triple) raised while
    handling the request ``environ``. ``close_exc_info``: close() of the
    response iterable failed as well. Pure: reads the frames, changes
    nothing."""
    exc_type, exc, tb = exc_info
    headline = _headline(exc_type, exc)
    method = environ.get("REQUEST_METHOD", "?")
    target = request_uri(environ)
    parts = [
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
        "<meta name=\"robots\" content=\"noindex\">\n",
        "<title>500 %s</title>\n<style>%s</style>\n</head>\n<body>\n" % (_e(shorten(headline, 120)), _CSS),
        "<header>\n<h1>%s</h1>\n" % _e(_type_name(exc_type)),
        "<p class=\"message\">%s</p>\n" % _e(_message(exc)),
        "<p class=\"request\">while handling <code>%s %s</code></p>\n" % (_e(method), _e(target)),
        "<p class=\"meta\">portico worker pid %d &middot; Python %s</p>\n</header>\n"
        % (os.getpid(), _e(sys.version.split()[0])),
        "<main>\n",
    ]
    parts.extend(_render_chain(exc_type, exc, tb))
    if close_exc_info is not None:
        parts.append("<h2 class=\"also\">close() of the response iterable failed as well</h2>\n")
        parts.extend(_render_chain(*close_exc_info))
    parts.append("<h2>Traceback</h2>\n<pre class=\"traceback\">%s</pre>\n"
                 % _e(_plain_traceback(exc_info, close_exc_info)))
    parts.append(_render_environ(environ))
    parts.append("</main>\n<footer>This page is shown because portico runs with <code>--debug</code>. "
                 "It exposes source code, local variables and the request: never enable it on a "
                 "server others can reach.</footer>\n</body>\n</html>\n")
    return "".join(parts)


def _headline(exc_type, exc) -> str:
    message = _message(exc)
    return "%s: %s" % (_type_name(exc_type), message) if message else _type_name(exc_type)


def _message(exc) -> str:
    if exc is None:
        return ""
    return _safe_str(exc)


def _chain(exc):
    """(relation to the previous entry, exception), newest first, as
    traceback walks it; a cycle ends the walk."""
    seen = set()
    relation = None
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield relation, exc
        if exc.__cause__ is not None:
            relation, exc = _CAUSE, exc.__cause__
        elif exc.__context__ is not None and not exc.__suppress_context__:
            relation, exc = _CONTEXT, exc.__context__
        else:
            return


def _render_chain(exc_type, exc, tb):
    if exc is None:
        return [_render_exception(exc_type, None, tb)]
    parts = []
    for index, (relation, link) in enumerate(_chain(exc)):
        if relation is not None:
            parts.append("<p class=\"relation\">%s</p>\n" % _e(relation))
        # The first is the one handed in: its traceback is the one given.
        parts.append(_render_exception(type(link), link, tb if index == 0 else link.__traceback__))
    return parts


_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))


def _is_runtime_frame(frame) -> bool:
    return os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _RUNTIME_DIR


def _render_exception(exc_type, exc, tb) -> str:
    parts = ["<section class=\"exception\">\n<h2>%s</h2>\n" % _e(_headline(exc_type, exc))]
    notes = getattr(exc, "__notes__", None)  # PEP 678 (3.11+)
    if isinstance(notes, (list, tuple)):
        for note in notes:
            parts.append("<p class=\"note\">%s</p>\n" % _e(_safe_str(note)))
    # The server's own frames (the executor calling the app) tell the
    # developer nothing and would show portico's locals: start at their code.
    frames = list(traceback.walk_tb(tb))
    while len(frames) > 1 and _is_runtime_frame(frames[0][0]):
        frames.pop(0)
    if not frames:
        parts.append("<p class=\"empty\">No traceback: the server found this fault after the "
                     "application returned.</p>\n")
    omitted = len(frames) - MAX_FRAMES
    if omitted > 0:
        half = MAX_FRAMES // 2
        shown = frames[:half] + [None] + frames[-half:]
    else:
        shown = frames
    parts.append("<ol class=\"frames\">\n")
    for item in shown:
        if item is None:
            parts.append("<li class=\"omitted\">&hellip; %d frames omitted &hellip;</li>\n" % omitted)
        else:
            parts.append(_render_frame(*item))
    parts.append("</ol>\n</section>\n")
    return "".join(parts)


def _render_frame(frame, lineno) -> str:
    code = frame.f_code
    where = "<p class=\"where\"><code class=\"file\">%s</code>, line %s, in <code class=\"func\">%s</code></p>\n" % (
        _e(code.co_filename), "?" if lineno is None else lineno, _e(code.co_name))
    return "<li class=\"frame\">\n%s%s%s</li>\n" % (where, _render_source(frame, lineno), _render_locals(frame))


def _render_source(frame, lineno) -> str:
    try:
        lines = linecache.getlines(frame.f_code.co_filename, frame.f_globals)
    except Exception:
        lines = []
    if lineno is None or not 1 <= lineno <= len(lines):
        return "<p class=\"empty\">source not available</p>\n"
    first = max(1, lineno - CONTEXT_LINES)
    last = min(len(lines), lineno + CONTEXT_LINES)
    width = len(str(last))
    rows = []
    for number in range(first, last + 1):
        text = lines[number - 1].rstrip("\r\n")
        if number == lineno:
            # The arrow marks the line without CSS too.
            rows.append("<span class=\"line hit\">&rarr; %s  %s</span>" % (str(number).rjust(width), _e(text)))
        else:
            rows.append("<span class=\"line\">  %s  %s</span>" % (str(number).rjust(width), _e(text)))
    return "<pre class=\"source\">%s</pre>\n" % "".join(rows)


def _render_locals(frame) -> str:
    if frame.f_code.co_name == "<module>" and frame.f_locals is frame.f_globals:
        return "<p class=\"empty\">module level: its globals are not listed</p>\n"
    try:
        items = list(frame.f_locals.items())
    except Exception as exc:
        return "<p class=\"empty\">locals unavailable: %s</p>\n" % _e(_repr_failed(exc))
    if not items:
        return "<p class=\"empty\">no local variables</p>\n"
    rows = ["<tr><th>%s</th><td>%s</td></tr>\n" % (_e(_safe_str(name)), _e(short_repr(value)))
            for name, value in items[:MAX_LOCALS]]
    if len(items) > MAX_LOCALS:
        rows.append("<tr><th>&hellip;</th><td>%d more not shown</td></tr>\n" % (len(items) - MAX_LOCALS))
    return "<details class=\"locals\" open>\n<summary>locals</summary>\n<table>\n%s</table>\n</details>\n" % "".join(rows)


def _plain_traceback(exc_info, close_exc_info) -> str:
    try:
        text = "".join(traceback.format_exception(*exc_info))
        if close_exc_info is not None:
            text += "\nclose() of the response iterable failed as well:\n"
            text += "".join(traceback.format_exception(*close_exc_info))
        return text
    except Exception as exc:
        return "the traceback could not be formatted: %s" % _repr_failed(exc)


def _render_environ(environ: dict) -> str:
    rows = []
    for key in sorted(k for k in environ if isinstance(k, str)):
        rows.append("<tr><th>%s</th><td>%s</td></tr>\n" % (_e(key), _e(short_repr(environ[key]))))
    return ("<details class=\"environ\">\n<summary>Request environ (%d keys)</summary>\n<table>\n%s</table>\n"
            "</details>\n" % (len(rows), "".join(rows)))


_CSS = """
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; background: #fafafa; }
header { background: #8b1a1a; color: #fff; padding: 1.2em 2em; }
header h1 { margin: 0; font-size: 1.6em; }
header .message { font-size: 1.15em; margin: .4em 0; white-space: pre-wrap; word-break: break-word; }
header .request, header .meta { margin: .2em 0; opacity: .9; }
header code { background: rgba(255,255,255,.15); padding: 0 .3em; border-radius: 3px; }
main { padding: 1em 2em 2em; }
h2 { font-size: 1.15em; margin: 1.4em 0 .5em; word-break: break-word; }
h2.also { color: #8b1a1a; }
.relation { margin: 1.5em 0 0; padding: .5em .8em; background: #fff3cd; border-left: 4px solid #d4a017; }
.note { margin: .3em 0; font-style: italic; }
ol.frames { list-style: none; padding: 0; margin: 0; }
li.frame { background: #fff; border: 1px solid #ddd; border-radius: 4px; margin: .6em 0; padding: .5em .8em; }
li.omitted { color: #666; padding: .4em .8em; }
.where { margin: 0 0 .4em; word-break: break-all; }
code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
code.func { font-weight: bold; }
pre { margin: .3em 0; overflow-x: auto; }
pre.source { background: #f4f4f4; padding: .4em 0; }
pre.source .line { display: block; padding: 0 .6em; white-space: pre; }
pre.source .hit { background: #ffd7d7; font-weight: bold; }
pre.traceback { background: #fff; border: 1px solid #ddd; padding: .6em .8em; white-space: pre-wrap; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .15em .6em; border-top: 1px solid #eee;
         font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
th { width: 14em; color: #555; font-weight: normal; word-break: break-all; }
td { word-break: break-all; white-space: pre-wrap; }
summary { cursor: pointer; color: #555; }
.empty { color: #777; margin: .2em 0; font-style: italic; }
footer { padding: 1em 2em; color: #666; border-top: 1px solid #ddd; }
"""
