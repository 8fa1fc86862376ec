"""The site's WSGI application, mounted at / by portico.toml beside it.
Standard library only.
"""
import html
import json
from urllib.parse import parse_qs


def application(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/":
        name = parse_qs(environ["QUERY_STRING"]).get("name", ["world"])[0]
        body = (
            "<!doctype html><title>portico</title>"
            f"<h1>Hello, {html.escape(name)}!</h1>"
            '<link rel="stylesheet" href="/static/style.css">'
            "<p>Served by portico from a persistent Python worker.</p>"
            '<ul><li><a href="/static/">a static page</a></li>'
            '<li><a href="/cgi-bin/hello.sh?from=site">a shell CGI script</a></li>'
            '<li><a href="/cgi-bin/env.py">a Python CGI script</a></li></ul>'
            '<form action="/echo" method="post"><input name="message"><button>Echo</button></form>'
        ).encode("utf-8")
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [body]
    if path == "/echo" and environ["REQUEST_METHOD"] == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(length).decode("utf-8"))
        body = json.dumps({k: v[0] for k, v in form.items()}).encode("utf-8")
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found\n"]
