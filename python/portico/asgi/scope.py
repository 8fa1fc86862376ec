"""The ASGI ``http`` and ``websocket`` connection scopes for one request,
from its RequestHead.

ASGI 3.0, HTTP & WebSocket spec 2.4 ("HTTP Connection Scope", "WebSocket
Connection Scope"). The head is
decoded by the request loop; this module only reshapes it, so the WSGI and
ASGI sides see the same request.
"""
from __future__ import annotations

ASGI_VERSION = "3.0"
# www spec 2.4: send() on a closed connection raises an OSError subclass
# (http_cycle.py does), which frameworks look for in spec_version (Starlette
# stops listening for http.disconnect beside a streaming body when it sees it).
HTTP_SPEC_VERSION = "2.4"

PATHSEND = "http.response.pathsend"
TRAILERS = "http.response.trailers"
EARLY_HINT = "http.response.early_hint"

# The extensions this core can carry ("Extensions" page of the ASGI docs):
# each names a message the application may then send. Zero-copy send is not
# among them: it hands over a descriptor, and the front reads files by path.
EXTENSIONS = (PATHSEND, TRAILERS, EARLY_HINT)

# Extensions, "WebSocket Denial Response": websocket.http.response.start and
# .body answer the handshake with any HTTP response instead of a bare 403.
DENIAL_RESPONSE = "websocket.http.response"
WEBSOCKET_EXTENSIONS = (DENIAL_RESPONSE,)


def http_scope(head, state: dict | None = None, extensions=EXTENSIONS) -> dict:
    """The scope for ``head`` (a RequestHead).

    ``state`` is the lifespan state (lifespan.py); each request gets a
    shallow copy (lifespan spec, "Lifespan State"). ``extensions`` names the
    extensions offered (an iterable of names or a mapping); each request
    gets its own dicts, as an application may write into them.
    """
    return {
        "type": "http",
        "asgi": {"version": ASGI_VERSION, "spec_version": HTTP_SPEC_VERSION},
        "http_version": head.http_version,
        "method": head.method,
        "scheme": head.scheme,
        # "path: percent-encoded sequences and UTF-8 byte sequences decoded
        # into characters". Bytes that are not UTF-8 become U+FFFD, as
        # uvicorn's unquote() makes them; raw_path keeps the exact bytes.
        # The path includes root_path (the convention of uvicorn >= 0.26
        # and Starlette's routing: root_path is a prefix of path).
        "path": head.path.decode("utf-8", "replace"),
        "raw_path": head.raw_path,
        "query_string": head.query_string,
        "root_path": head.root_path.decode("utf-8", "replace"),
        "headers": request_headers(head.headers),
        "client": head.client,
        "server": head.server,
        "state": {} if state is None else dict(state),
        "extensions": _extensions(head, extensions),
    }


def websocket_scope(head, state: dict | None = None, extensions=WEBSOCKET_EXTENSIONS) -> dict:
    """The ``websocket`` connection scope for ``head`` (www spec,
    "WebSocket Connection Scope"): the http scope's fields without
    ``method``, the scheme as ws/wss, and the subprotocols the client
    offered."""
    headers = request_headers(head.headers)
    return {
        "type": "websocket",
        "asgi": {"version": ASGI_VERSION, "spec_version": HTTP_SPEC_VERSION},
        "http_version": head.http_version,
        # "scheme: URL scheme portion (likely "ws" or "wss")": the head says
        # how the handshake came, http or https (TLS).
        "scheme": "wss" if head.scheme == "https" else "ws",
        "path": head.path.decode("utf-8", "replace"),
        "raw_path": head.raw_path,
        "query_string": head.query_string,
        "root_path": head.root_path.decode("utf-8", "replace"),
        "headers": headers,
        "client": head.client,
        "server": head.server,
        "subprotocols": offered_subprotocols(headers),
        "state": {} if state is None else dict(state),
        "extensions": _extensions(head, extensions),
    }


def _extensions(head, offered) -> dict:
    """The offered extensions, each a dict of its own; over TLS, the TLS
    extension too (asgiref "TLS extension": offered on TLS connections
    only, never on plain ones)."""
    extensions = {name: {} for name in offered}
    if head.tls is not None:
        extensions["tls"] = dict(head.tls, client_cert_chain=list(head.tls["client_cert_chain"]))
    return extensions


def offered_subprotocols(headers) -> list:
    """Sec-WebSocket-Protocol's tokens, in order, over every such field
    (RFC 6455 4.1 item 10, 11.3.4: a comma-separated list, which may be
    split across fields, RFC 9110 5.3)."""
    offered = []
    for name, value in headers:
        if name == b"sec-websocket-protocol":
            for token in value.decode("latin-1").split(","):
                token = token.strip(" \t")
                if token:
                    offered.append(token)
    return offered


def request_headers(headers) -> list:
    """The head's (name, value) pairs as the scope's ``headers``, in order
    and with duplicates.

    Two kinds of field are left out, by the same rules as the WSGI environ
    and the CGI variables (src/http/request-headers.ts), since frameworks
    map them the same way (Django's ASGIRequest builds HTTP_* META keys):
    - a name with '_': after the '-' -> '_' mapping ``x-forwarded_for``
      could not be told from ``x-forwarded-for``, a header a trusted proxy
      in front may vouch for;
    - ``proxy``: HTTP_PROXY is what HTTP libraries read as their proxy
      ("httpoxy", CVE-2016-5385); no legitimate request carries it.
    HTTP/2 pseudo-fields must not reach the application, and ``:authority``
    stands in for ``host`` (www spec, "HTTP Connection Scope").
    """
    kept = []
    authority = None
    for item in headers:
        name = item[0]
        if b"_" in name or name == b"proxy":
            continue
        if name[:1] == b":":
            if name == b":authority":
                authority = item[1]
            continue
        kept.append(item)
    if authority is not None:
        kept = [(b"host", authority)] + [item for item in kept if item[0] != b"host"]
    return kept
