"""Echoes what the application was given: the environ's strings and the body
read from wsgi.input, as JSON (latin-1 code points, so bytes survive).

Each request is also logged on arrival, before its body is read, as one
line in the file named by $PORTICO_CONFORMANCE_LOG, so that a test can
count exactly which requests reached the application.
"""
import json
import os
from wsgiref.validate import validator


def _echo(environ, start_response):
    log = os.environ.get("PORTICO_CONFORMANCE_LOG")
    if log:
        with open(log, "a") as f:
            f.write(json.dumps([environ["REQUEST_METHOD"], environ.get("RAW_URI", "")]) + "\n")
    stream = environ["wsgi.input"]
    chunks = []
    while True:
        chunk = stream.read(65536)
        if not chunk:
            break
        chunks.append(chunk)
    body = b''.join(chunks)
    payload = {k: v for k, v in environ.items() if isinstance(v, str)}
    payload['body'] = body.decode('latin-1')
    out = json.dumps(payload).encode('ascii')
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(out)))])
    return [out]


application = validator(_echo)
