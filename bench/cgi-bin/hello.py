#!/usr/bin/python3
import sys

body = b"Hello, world!"
sys.stdout.buffer.write(
    b"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
)
