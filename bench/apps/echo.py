"""Reads the whole request body in chunks, then returns it."""

CHUNK = 64 * 1024


def application(environ, start_response):
    stream = environ["wsgi.input"]
    remaining = int(environ.get("CONTENT_LENGTH") or 0)
    chunks = []
    while remaining > 0:
        chunk = stream.read(min(CHUNK, remaining))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    body = b"".join(chunks)
    start_response(
        "200 OK",
        [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(body)))],
    )
    return [body]
