"""portico's Python worker runtime: standard library only, Python 3.9+.

    codec          frames of the front <-> worker channel
    channel        fd 3: reading, dispatching, batching writes
    threaded       the same channel with a pool of request threads
    stream         one request stream's state
    executor       PEP 3333: environ, start_response, the response iterable
    input          wsgi.input
    file_wrapper   wsgi.file_wrapper
    loader         application spec -> callable
    rfc9110        the HTTP grammar start_response checks
    worker         the process: boot, signals, serve
"""

__version__ = "0.1.0"
