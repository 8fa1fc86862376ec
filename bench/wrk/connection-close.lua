-- Every request on a connection of its own: with TLS, a full handshake each
-- (the tls-handshakes workload). wrk opens a new connection after each
-- response that says Connection: close.
wrk.headers["Connection"] = "close"
