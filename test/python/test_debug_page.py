"""The --debug error page, rendered from real exceptions: everything escaped,
reprs short and safe, source context, chains."""
import linecache
import re
import sys
import unittest

import support
from portico import debug_page
from portico.debug_page import MAX_REPR, render_error_page, short_repr
from portico.errors import WSGIViolation

EVIL = "<script>alert(1)</script>"


class RaisingRepr:
    def __repr__(self):
        raise RuntimeError("repr exploded <b>")


class HugeRepr:
    def __repr__(self):
        return "H" * 100000


def caught(function, *args):
    try:
        function(*args)
    except Exception:
        return sys.exc_info()
    raise AssertionError("%s did not raise" % function.__name__)


def leaky(arg):
    evil = EVIL
    huge = "x" * 100000
    custom = HugeRepr()
    bad = RaisingRepr()
    nested = [1, RaisingRepr()]
    raise ValueError("value was %s & \"quoted\" 'too'" % evil)  # the failing line


def with_cause():
    try:
        {}["missing <key>"]
    except KeyError as exc:
        raise RuntimeError("lookup failed") from exc


def with_context():
    try:
        1 / 0
    except ZeroDivisionError:
        raise LookupError("while handling")


def recurse(n):
    return recurse(n + 1)


def page_for(exc_info, **environ):
    return render_error_page(exc_info, support.base_environ(**environ))


def hit_line(page):
    """The text of the marked (failing) source line of the first frame that has one."""
    match = re.search(r'<span class="line hit">&rarr;\s+\d+  (.*?)</span>', page)
    return match and match.group(1)


class EscapingTest(unittest.TestCase):
    def setUp(self):
        self.page = page_for(caught(leaky, EVIL), path="/a<b>", query="q=<i>&x=\"1\"")

    def test_raw_markup_from_the_app_never_appears(self):
        self.assertNotIn("<script", self.page.lower())
        self.assertNotIn("<b>", self.page)
        self.assertNotIn("<i>", self.page)

    def test_local_and_message_are_shown_escaped(self):
        escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
        self.assertIn("<th>evil</th><td>&#x27;%s&#x27;</td>" % escaped, self.page)
        self.assertIn("<th>arg</th>", self.page)
        # quote=True: both quote characters of the message are entities too.
        self.assertIn("value was %s &amp; &quot;quoted&quot; &#x27;too&#x27;" % escaped, self.page)

    def test_request_method_and_path_are_shown_escaped(self):
        self.assertIn("<code>GET /a&lt;b&gt;?q=&lt;i&gt;&amp;x=&quot;1&quot;</code>", self.page)

    def test_self_contained(self):
        self.assertTrue(self.page.startswith("<!DOCTYPE html>"))
        self.assertIn("<style>", self.page)
        self.assertNotIn("src=", self.page)
        self.assertNotIn("href=", self.page)
        self.assertIn('<meta charset="utf-8">', self.page)

    def test_type_and_traceback(self):
        self.assertIn("<h1>ValueError</h1>", self.page)
        self.assertIn('<pre class="traceback">Traceback (most recent call last):', self.page)
        self.assertIn("in <code class=\"func\">leaky</code>", self.page)
        self.assertIn("<code class=\"file\">%s</code>" % __file__.replace("&", "&amp;"), self.page)


class ReprTest(unittest.TestCase):
    def setUp(self):
        self.page = page_for(caught(leaky, 1))

    def locals_cell(self, name):
        match = re.search(r"<th>%s</th><td>(.*?)</td>" % name, self.page)
        self.assertIsNotNone(match, name)
        return match.group(1)

    def test_huge_reprs_are_shortened(self):
        for name in ("huge", "custom"):
            with self.subTest(name):
                cell = self.locals_cell(name)
                self.assertLessEqual(len(cell), MAX_REPR + 20)  # + the escaped quotes
                self.assertIn("...", cell)
        self.assertNotIn("x" * (MAX_REPR + 1), self.page)
        self.assertNotIn("H" * (MAX_REPR + 1), self.page)

    def test_a_raising_repr_does_not_break_the_page(self):
        self.assertEqual(self.locals_cell("bad"), "&lt;repr failed: RuntimeError: repr exploded &lt;b&gt;&gt;")
        self.assertIn("&lt;repr failed: RuntimeError", self.locals_cell("nested"))

    def test_short_repr_limits(self):
        for value in ("s" * 10000, list(range(10000)), {i: "v" * 500 for i in range(100)},
                      HugeRepr(), [[[["deep"] * 50] * 50] * 50], 10 ** 5000):
            with self.subTest(type(value).__name__):
                self.assertLessEqual(len(short_repr(value)), MAX_REPR)
        self.assertEqual(short_repr("<x>"), "'<x>'")  # escaping is the page's job
        self.assertTrue(short_repr(RaisingRepr()).startswith("<repr failed: RuntimeError: "))

    def test_a_repr_raising_a_long_message_is_shortened_too(self):
        class Loud:
            def __repr__(self):
                raise ValueError("m" * 5000)
        self.assertLessEqual(len(short_repr(Loud())), MAX_REPR)


class SourceTest(unittest.TestCase):
    def test_failing_line_is_marked_with_context_around_it(self):
        page = page_for(caught(leaky, 1))
        # walk_tb starts at caught(): its failing line is function(*args).
        self.assertEqual(hit_line(page), "        function(*args)")
        leaky_frame = page[page.index('<code class="func">leaky</code>'):]
        self.assertEqual(hit_line(leaky_frame),
                         "    raise ValueError(&quot;value was %s &amp; \\&quot;quoted\\&quot; "
                         "&#x27;too&#x27;&quot; % evil)  # the failing line")
        source = leaky_frame[:leaky_frame.index("</pre>")]
        # Five lines either side where the file has them.
        self.assertIn("custom = HugeRepr()", source)
        self.assertIn("evil = EVIL", source)
        self.assertNotIn("def leaky(arg):", source)
        self.assertIn("def with_cause():", source)
        self.assertEqual(source.count('<span class="line'), 11)

    def test_missing_source_is_said(self):
        namespace = {}
        exec(compile("def f():\n    raise OSError('x')\n", "/nonexistent/file.py", "exec"), namespace)
        page = page_for(caught(namespace["f"]))
        self.assertIn("source not available", page)


class NamesTest(unittest.TestCase):
    FILENAME = "/tmp/<&>\"evil\".py"

    def setUp(self):
        source = ("def outer(x):\n"
                  "    tag = '<script>'\n"
                  "    return (lambda: x['<&>'])()\n")
        # A fake file that linecache knows (no mtime: checkcache keeps it).
        lines = source.splitlines(True)
        linecache.cache[self.FILENAME] = (len(source), None, lines, self.FILENAME)
        self.addCleanup(linecache.cache.pop, self.FILENAME, None)
        namespace = {}
        exec(compile(source, self.FILENAME, "exec"), namespace)
        outer = namespace["outer"]
        outer.__code__ = outer.__code__.replace(co_name="outer<&>")
        self.page = page_for(caught(outer, {}))

    def test_file_and_function_names_are_escaped(self):
        self.assertNotIn("<&>", self.page)
        self.assertIn('<code class="file">/tmp/&lt;&amp;&gt;&quot;evil&quot;.py</code>', self.page)
        self.assertIn('<code class="func">outer&lt;&amp;&gt;</code>', self.page)
        self.assertIn('<code class="func">&lt;lambda&gt;</code>', self.page)

    def test_source_lines_are_escaped(self):
        self.assertIn("tag = &#x27;&lt;script&gt;&#x27;", self.page)
        self.assertIn("return (lambda: x[&#x27;&lt;&amp;&gt;&#x27;])()", self.page)
        self.assertNotIn("<script", self.page)


class ChainTest(unittest.TestCase):
    def test_cause_is_shown(self):
        page = page_for(caught(with_cause))
        self.assertIn("<h2>RuntimeError: lookup failed</h2>", page)
        self.assertIn("<h2>KeyError: &#x27;missing &lt;key&gt;&#x27;</h2>", page)
        self.assertIn(debug_page._CAUSE, page)
        # Newest first: the exception that reached the server leads.
        self.assertLess(page.index("<h2>RuntimeError"), page.index("<h2>KeyError"))
        self.assertIn("The above exception was the direct cause", page)  # the plain traceback

    def test_context_is_shown(self):
        page = page_for(caught(with_context))
        self.assertIn("<h2>ZeroDivisionError: division by zero</h2>", page)
        self.assertIn(debug_page._CONTEXT, page)

    def test_suppressed_context_is_not_shown(self):
        def suppressed():
            try:
                1 / 0
            except ZeroDivisionError:
                raise LookupError("clean") from None
        page = page_for(caught(suppressed))
        self.assertNotIn("<h2>ZeroDivisionError", page)
        self.assertNotIn(debug_page._CONTEXT, page)

    def test_a_cycle_ends_the_walk(self):
        first, second = ValueError("a"), ValueError("b")
        first.__context__, second.__context__ = second, first
        page = page_for((ValueError, first, None))
        self.assertEqual(page.count("<h2>ValueError: "), 2)

    def test_close_error_is_shown_as_well(self):
        close_error = caught(with_context)
        page = render_error_page(caught(leaky, 1), support.base_environ(), close_error)
        self.assertIn("close() of the response iterable failed as well", page)
        self.assertIn("<h2>LookupError: while handling</h2>", page)


class OddExceptionsTest(unittest.TestCase):
    def test_no_traceback(self):
        page = page_for((WSGIViolation, WSGIViolation("start_response was not called"), None))
        self.assertIn("<h1>portico.errors.WSGIViolation</h1>", page)
        self.assertIn("start_response was not called", page)
        self.assertIn("No traceback", page)

    def test_str_of_the_exception_raising(self):
        class Unprintable(Exception):
            def __str__(self):
                raise TypeError("no")

        def raiser():
            raise Unprintable()
        page = page_for(caught(raiser))
        self.assertIn("&lt;str() failed: TypeError&gt;", page)

    def test_deep_recursion_keeps_both_ends(self):
        exc_info = caught(recurse, 0)
        page = page_for(exc_info)
        self.assertIn("frames omitted", page)
        self.assertEqual(page.count('<li class="frame">'), debug_page.MAX_FRAMES)

    def test_notes_are_shown(self):
        def noted():
            exc = ValueError("v")
            exc.__notes__ = ["a note <here>"]
            raise exc
        self.assertIn('<p class="note">a note &lt;here&gt;</p>', page_for(caught(noted)))

    def test_environ_is_listed_escaped(self):
        page = page_for(caught(leaky, 1), HTTP_X_EVIL=EVIL)
        self.assertIn("<th>HTTP_X_EVIL</th><td>&#x27;&lt;script&gt;", page)


if __name__ == "__main__":
    unittest.main()
