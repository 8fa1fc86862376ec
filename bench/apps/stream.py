"""Streams without holding the body: for the 1 GiB upload and download.

POST /upload            reads the body in chunks and answers with its length.
GET  /download?bytes=N  answers with N bytes, produced chunk by chunk.
"""

from urllib.parse import parse_qs

CHUNK = 256 * 1024
BLOCK = b"\0" * CHUNK


def upload(environ, start_response):
    stream = environ["wsgi.input"]
    remaining = int(environ.get("CONTENT_LENGTH") or 0)
    seen = 0
    while remaining > 0:
        chunk = stream.read(min(CHUNK, remaining))
        if not chunk:
            break
        seen += len(chunk)
        remaining -= len(chunk)
    body = str(seen).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def download(environ, start_response):
    size = int(parse_qs(environ.get("QUERY_STRING", "")).get("bytes", ["0"])[0])
    start_response(
        "200 OK",
        [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))],
    )

    def chunks():
        # PEP 3333: the body is an iterable of bytestrings (not memoryviews).
        left = size
        while left > 0:
            n = min(CHUNK, left)
            yield BLOCK if n == CHUNK else BLOCK[:n]
            left -= n

    return chunks()


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/upload":
        return upload(environ, start_response)
    return download(environ, start_response)
