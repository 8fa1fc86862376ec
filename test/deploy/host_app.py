"""The application each host of test/deploy's cluster serves. It answers
with where it ran (the host name of its UTS namespace, the worker's pid and
its parent's, the front's) and who asked (REMOTE_ADDR, as portico resolved
it from X-Forwarded-For or a PROXY header), in one JSON line, so that the
load generator can tally every response by host, by process and by client."""
import json
import os
import socket
from wsgiref.validate import validator


def _application(environ, start_response):
    body = json.dumps({
        'host': socket.gethostname(),
        'pid': os.getpid(),
        'front': os.getppid(),
        'remote_addr': environ.get('REMOTE_ADDR'),
    }).encode() + b'\n'
    start_response('200 OK', [('Content-Type', 'application/json'),
                              ('Content-Length', str(len(body)))])
    return [body]


application = validator(_application)
