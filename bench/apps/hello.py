"""WSGI hello world: 13 bytes, the smallest possible response."""

BODY = b"Hello, world!"


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]
