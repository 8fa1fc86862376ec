"""portico's ASGI 3 core: what an ASGI application sees, apart from how the
request reached the worker.

    scope.py       http_scope(): the HTTP connection scope from a RequestHead
    detect.py      is_asgi(), choose_interface(): --interface auto
    transport.py   HTTPTransport: what the request loop must provide per request
    http_cycle.py  run_http(), HTTPCycle: receive/send for one request
    lifespan.py    Lifespan: startup and shutdown (--lifespan auto|on|off)
    fields.py      status and field checks on what the application sends
    report.py      the log texts of a broken request
    errors.py      ASGIViolation, LifespanFailed

Nothing here knows the frame channel; the request loop drives it.
"""
