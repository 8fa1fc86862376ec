"""A 100 KiB response, built once at import."""

BODY = bytes(range(256)) * 400  # 102400 bytes


def application(environ, start_response):
    start_response(
        "200 OK",
        [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(BODY)))],
    )
    return [BODY]
