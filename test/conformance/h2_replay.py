"""Replays the HTTP/1.1 corpus (test/conformance/http/) over HTTP/2, each
case as the HTTP/2 request that says the same thing, for
http2-corpus.test.ts. Run with Debian's python3-h2:

    h2_replay.py HOST PORT valid|invalid

A case's bytes are read as an HTTP/1.1 request and translated (RFC 9113
§8.3.1): the request line's method and origin-form target become :method
and :path, the first Host becomes :authority (every Host field is sent
too, as it came), names are lowercased, a chunked body is sent as DATA
frames and its trailer section as a trailing HEADERS frame. A case that
has no HTTP/2 counterpart is skipped with the reason: its point is
HTTP/1.1 framing (a malformed line, chunk syntax, obs-fold, bare CR or
LF, HTTP/1.0 or another version), a target form HTTP/2 does not carry
(absolute, authority, CONNECT), or a connection-specific field. Fields are
sent as they are, unvalidated: what HTTP/2 forbids is the server's to
refuse.

Prints one JSON line per case: {"name", "skipped"} or {"name", "status",
"reset", "body"} (status 0 and reset set when the stream was reset).
"""
import json
import os
import re
import socket
import ssl
import sys

import h2.events

from h2_raw_client import connect

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'http')
TOKEN = re.compile(rb"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
REQUEST_LINE = re.compile(rb'^([^ ]+) ([^ ]+) HTTP/1\.1$')
CONNECTION_SPECIFIC = {b'connection', b'keep-alive', b'proxy-connection', b'upgrade', b'transfer-encoding'}


class Skip(Exception):
    pass


def dechunk(data, extensions_allowed):
    """RFC 9112 §7.1: the body and the trailer fields, or Skip for anything not plain."""
    body = b''
    while True:
        line, sep, data = data.partition(b'\r\n')
        if not sep or not re.fullmatch(rb'[0-9A-Fa-f]+(;[^\r\n]*)?', line):
            raise Skip('chunk syntax')
        if b';' in line and not extensions_allowed:
            # An invalid case about chunk extensions is about HTTP/1.1 framing: HTTP/2 has none to send.
            raise Skip('chunk extension')
        size = int(line.split(b';')[0], 16)
        if size == 0:
            break
        if len(data) < size + 2 or data[size:size + 2] != b'\r\n':
            raise Skip('chunk syntax')
        body += data[:size]
        data = data[size + 2:]
    trailers = []
    while True:
        line, sep, data = data.partition(b'\r\n')
        if not sep:
            raise Skip('chunk syntax')
        if line == b'':
            return body, trailers
        name, colon, value = line.partition(b':')
        if not colon or not TOKEN.match(name):
            raise Skip('trailer syntax')
        trailers.append((name.lower(), value.strip(b' \t')))


def translate(raw, invalid):
    """(headers, body, trailers) of the HTTP/2 request, or Skip."""
    raw = raw.lstrip(b'\r\n')  # RFC 9112 §2.2: empty lines before the request line are ignored
    head, sep, rest = raw.partition(b'\r\n\r\n')
    if not sep:
        raise Skip('no end of head')
    if re.search(rb'\r(?!\n)|(?<!\r)\n', head + b'\r\n'):
        raise Skip('bare CR or LF')
    lines = head.split(b'\r\n')
    match = REQUEST_LINE.match(lines[0])
    if not match:
        raise Skip('request line is not HTTP/1.1 method, target, version')
    method, target = match.groups()
    if not TOKEN.match(method):
        raise Skip('method')
    if method == b'CONNECT' or not (target.startswith(b'/') or target == b'*'):
        raise Skip('target form HTTP/2 does not carry')
    fields = []
    for line in lines[1:]:
        if line[:1] in (b' ', b'\t'):
            raise Skip('obs-fold')
        name, colon, value = line.partition(b':')
        if not colon or not TOKEN.match(name):
            raise Skip('field line syntax')
        fields.append((name.lower(), value.strip(b' \t')))
    if sum(1 for name, _ in fields if name == b'transfer-encoding') > 1:
        raise Skip('Transfer-Encoding framing')
    chunked = False
    for name, value in fields:
        if name == b'transfer-encoding' and value.lower() == b'chunked':
            chunked = True
        elif name in CONNECTION_SPECIFIC or (name == b'te' and value.lower() != b'trailers'):
            raise Skip('connection-specific field')
    if chunked and any(name == b'content-length' for name, _ in fields):
        raise Skip('chunked with Content-Length')
    fields = [(name, value) for name, value in fields if name != b'transfer-encoding']
    body, trailers = dechunk(rest, not invalid) if chunked else (rest, [])
    hosts = [value for name, value in fields if name == b'host']
    pseudo = [(b':method', method), (b':scheme', b'https'), (b':path', target)]
    # An empty Host has no :authority to stand for it (RFC 9113 §8.3.1): the field goes alone.
    if hosts and hosts[0]:
        pseudo.insert(2, (b':authority', hosts[0]))
    return pseudo + fields, body, trailers


def exchange(host, port, headers, body, trailers):
    sock, conn = connect(host, port)
    conn.send_headers(1, headers, end_stream=not body and not trailers)
    if body:
        conn.send_data(1, body, end_stream=not trailers)
    if trailers:
        conn.send_headers(1, trailers, end_stream=True)
    sock.sendall(conn.data_to_send())
    status, reset, data = 0, None, b''
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            events = conn.receive_data(chunk)
            done = False
            for event in events:
                if isinstance(event, h2.events.ResponseReceived) and event.stream_id == 1:
                    status = int(dict(event.headers)[b':status'])
                elif isinstance(event, h2.events.DataReceived) and event.stream_id == 1:
                    data += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, 1)
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id == 1:
                    done = True
                elif isinstance(event, h2.events.StreamReset) and event.stream_id == 1:
                    reset, done = event.error_code, True
                elif isinstance(event, h2.events.ConnectionTerminated):
                    reset, done = reset if reset is not None else event.error_code, True
            sock.sendall(conn.data_to_send())
            if done:
                break
    except (socket.timeout, ConnectionError, ssl.SSLError):
        pass
    finally:
        sock.close()
    return {'status': status, 'reset': None if reset is None else int(reset), 'body': data.decode('latin-1')}


def main():
    host, port, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    directory = os.path.join(CORPUS, kind)
    for file in sorted(os.listdir(directory)):
        if not file.endswith('.http'):
            continue
        name = file[:-len('.http')]
        with open(os.path.join(directory, file), 'rb') as f:
            raw = f.read()
        try:
            headers, body, trailers = translate(raw, kind == 'invalid')
        except Skip as why:
            print(json.dumps({'name': name, 'skipped': str(why)}), flush=True)
            continue
        print(json.dumps({'name': name, **exchange(host, port, headers, body, trailers)}), flush=True)


if __name__ == '__main__':
    main()
