"""An HTTP/2 client connection over TLS that checks nothing it sends or
receives (python3-h2 with validation off), for the corpus replay and the
fuzz run: both must be able to send what a conforming client would not.
"""
import socket
import ssl

import h2.config
import h2.connection


def connect(host, port):
    """The socket and the h2 connection, the client preface already sent."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(['h2'])
    sock = context.wrap_socket(socket.create_connection((host, port), timeout=5), server_hostname='localhost')
    config = h2.config.H2Configuration(client_side=True, validate_outbound_headers=False,
                                       normalize_outbound_headers=False, validate_inbound_headers=False)
    conn = h2.connection.H2Connection(config=config)
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    return sock, conn
