"""Echoes what the application was given: the environ's strings and the body
read from wsgi.input, as JSON (latin-1 code points, so bytes survive).

Each request gets an id, sent back in the X-Echo-Id response header, and is
logged as JSON lines in the file named by $PORTICO_CONFORMANCE_LOG so that a
test can tell exactly which requests reached the application, on which
connection (REMOTE_PORT: the corpus server trusts no proxy, so it is the
client socket's own port), and which of them the application answered:
  {"event": "start", "id", "method", "uri", "port"}  on arrival, before the body is read
  {"event": "end", "id"}                             once the whole body was read, just
                                                     before the response is returned
A request with a start and no end had its body cut short or refused.
"""
import json
import os
import uuid
from wsgiref.validate import validator

ID_HEADER = 'X-Echo-Id'


def _log(event):
    log = os.environ.get("PORTICO_CONFORMANCE_LOG")
    if log:
        # One write per line, in append mode: lines from several workers never interleave.
        with open(log, "a") as f:
            f.write(json.dumps(event) + "\n")


def _echo(environ, start_response):
    request_id = uuid.uuid4().hex
    _log({"event": "start", "id": request_id, "method": environ["REQUEST_METHOD"],
          "uri": environ.get("RAW_URI", ""), "port": environ.get("REMOTE_PORT", "")})
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
    _log({"event": "end", "id": request_id})
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(out))),
                              (ID_HEADER, request_id)])
    return [out]


application = validator(_echo)
