#!/bin/sh
# A CGI/1.1 script (RFC 3875): headers, a blank line, then the body.
printf 'Content-Type: text/plain\r\n\r\n'
printf 'Hello from a shell CGI script.\n'
printf 'QUERY_STRING=%s\n' "$QUERY_STRING"
