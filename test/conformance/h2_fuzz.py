"""A seeded HTTP/2 request fuzzer for http2-corpus.test.ts, with Debian's
python3-h2 (no validation of what it sends):

    h2_fuzz.py HOST PORT SEED COUNT

Each request is a valid one (GET or POST to the echo app) with one to three
mutations: the method, the path or the authority given odd bytes, fields
added with odd names or values, connection-specific or duplicated framing
fields, a Content-Length the DATA frames contradict, trailers that may not
be there, a header list near the server's limits. Requests go out on one
connection until the server ends it, then on a new one, and every
LIVENESS_EVERY requests a plain GET on a fresh connection must be answered
200. Prints one JSON line: how many requests got which status, how many
streams were reset and connections ended, the liveness failures, and every
case answered 5xx (the front answers a refusal with 4xx or a reset; a 5xx
means something broke behind it).
"""
import json
import random
import socket
import ssl
import sys

import h2.events
import h2.exceptions

from h2_raw_client import connect

LIVENESS_EVERY = 25
ODD_BYTES = [b'\x00', b'\x01', b'\x7f', b'\xff', b' ', b'\t', b'#', b'%', b'%zz', b'..', b'//', b'?', b'\r', b'\n', b':', b'"', b'\\']
CONNECTION_FIELDS = [b'connection', b'keep-alive', b'proxy-connection', b'transfer-encoding', b'upgrade', b'te']


def odd(rng, text):
    at = rng.randrange(len(text) + 1)
    return text[:at] + rng.choice(ODD_BYTES) + text[at:]


def mutate(rng):
    """(headers, body, trailers) of one mutated request."""
    method = rng.choice([b'GET', b'POST'])
    path = b'/fuzz/' + bytes(rng.choice(b'abcxyz') for _ in range(rng.randrange(1, 8)))
    authority = b'example.com'
    fields = [(b'user-agent', b'h2-fuzz')]
    body = b'hello' if method == b'POST' else b''
    trailers = []
    declared = True
    for _ in range(rng.randrange(1, 4)):
        kind = rng.randrange(12)
        if kind == 0:
            method = rng.choice([b'get', b'G ET', b'', b'CONNECT', b'OPTIONS', b'PRI', b'X' * 200, odd(rng, b'POST')])
        elif kind == 1:
            path = odd(rng, path)
        elif kind == 2:
            path = rng.choice([b'', b'*', b'relative', b'http://example.com/x', b'/' + b'a' * rng.randrange(100, 300)])
        elif kind == 3:
            authority = rng.choice([b'', odd(rng, authority), b'user@example.com', b'example.com:99999', b'[::1', b'a' * 300])
        elif kind == 4:
            fields.append((odd(rng, b'x-name'), b'v'))
        elif kind == 5:
            fields.append((rng.choice([b'X-Upper', b'x_under', b':fake', b'', b'x name']), b'v'))
        elif kind == 6:
            fields.append((b'x-value', odd(rng, b'value')))
        elif kind == 7:
            fields.append((rng.choice(CONNECTION_FIELDS), rng.choice([b'close', b'chunked', b'trailers', b'h2c'])))
        elif kind == 8:
            fields.append((rng.choice([b'host', b'content-type', b'content-length']), rng.choice([b'example.org', b'text/plain', b'5', b'x'])))
        elif kind == 9:
            declared = False
            fields.append((b'content-length', str(len(body) + rng.choice([-1, 1, 100])).encode()))
        elif kind == 10:
            trailers.append((rng.choice([b'host', b'content-length', b'x-trailer', b'authorization', b':path']), b'1'))
            if not body:
                body = b'hello'
        else:
            fields.extend((b'x-many-%d' % i, b'v' * rng.randrange(1, 200)) for i in range(rng.randrange(10, 40)))
    if declared and body and rng.random() < 0.5:
        fields.append((b'content-length', str(len(body)).encode()))
    pseudo = [(b':method', method), (b':scheme', b'https'), (b':authority', authority), (b':path', path)]
    return pseudo + fields, body, trailers


def exchange(sock, conn, stream_id, headers, body, trailers):
    """The status, or 'reset', or 'goaway' (the connection is then done)."""
    try:
        conn.send_headers(stream_id, headers, end_stream=not body and not trailers)
        if body:
            conn.send_data(stream_id, body, end_stream=not trailers)
        if trailers:
            conn.send_headers(stream_id, trailers, end_stream=True)
        sock.sendall(conn.data_to_send())
    except (h2.exceptions.ProtocolError, OSError, ssl.SSLError):
        return 'goaway'
    status = None
    while True:
        try:
            chunk = sock.recv(65536)
        except (socket.timeout, OSError, ssl.SSLError):
            return 'timeout' if status is None else status
        if not chunk:
            return status if status is not None else 'goaway'
        try:
            events = conn.receive_data(chunk)
        except h2.exceptions.ProtocolError:
            return 'goaway'
        for event in events:
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream_id:
                status = int(dict(event.headers)[b':status'])
            elif isinstance(event, h2.events.DataReceived):
                conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream_id:
                sock.sendall(conn.data_to_send())
                return status
            elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream_id:
                sock.sendall(conn.data_to_send())
                return status if status is not None else 'reset'
            elif isinstance(event, h2.events.ConnectionTerminated):
                return status if status is not None else 'goaway'
        sock.sendall(conn.data_to_send())


def alive(host, port):
    sock, conn = connect(host, port)
    try:
        return exchange(sock, conn, 1, [(b':method', b'GET'), (b':scheme', b'https'), (b':authority', b'localhost'), (b':path', b'/')], b'', []) == 200
    finally:
        sock.close()


def main():
    host, port, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    outcomes, server_errors, liveness_failures = {}, [], []
    sock, conn, stream_id = None, None, 1
    for n in range(count):
        if sock is None:
            sock, conn, stream_id = (*connect(host, port), 1)
        headers, body, trailers = mutate(rng)
        outcome = exchange(sock, conn, stream_id, headers, body, trailers)
        stream_id += 2
        outcomes[str(outcome)] = outcomes.get(str(outcome), 0) + 1
        if isinstance(outcome, int) and outcome >= 500:
            server_errors.append({'n': n, 'status': outcome, 'headers': [[k.decode('latin-1'), v.decode('latin-1')] for k, v in headers]})
        if outcome in ('goaway', 'timeout'):
            sock.close()
            sock = None
        if (n + 1) % LIVENESS_EVERY == 0 and not alive(host, port):
            liveness_failures.append(n)
    if sock is not None:
        sock.close()
    print(json.dumps({'count': count, 'outcomes': outcomes, 'server_errors': server_errors[:5],
                      'liveness_failures': liveness_failures, 'alive_at_end': alive(host, port)}))


if __name__ == '__main__':
    main()
