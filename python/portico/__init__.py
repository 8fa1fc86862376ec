"""portico's Python worker runtime: standard library only, Python 3.8+.

The channel to the front:
    codec             frame layout, type codes, payloads
    frame_decoder     bytes from fd 3 -> frames
    frame_messages    whole frames <-> the golden file's message dicts
    request_head      the protocol-neutral request head (HAS_HEAD)
    environ_decoder   REQUEST environ blocks -> a fresh environ per request
    frame_link        fd 3 as frames: dispatch, stream table, batching, flow control
    stream            one request stream's state

Running requests:
    interfaces        interface name -> executor and request loop
    request_loop      what a request loop is (the contract)
    inline_loop       one request at a time (--threads 1)
    thread_pool_loop  request threads and a reader thread (--threads n)
    transport         what an executor talks to (the contract)
    stream_transport  a request over the frame link

WSGI (PEP 3333):
    executor          the application call, close(), errors
    response          start_response, write, the response iterable
    response_checks   what start_response checks (rfc9110 has the grammar)
    input             wsgi.input
    file_wrapper      wsgi.file_wrapper
    error_reports     the log texts of a failed request
    debug_page        --debug's HTML error page

The process:
    worker_config     the config fields, declared once
    loader            application spec -> callable
    worker            boot, signals, serve
    zygote            --preload: import once, fork workers
"""

__version__ = "0.1.0"
