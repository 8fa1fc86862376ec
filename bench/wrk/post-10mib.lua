-- POST a 10 MiB body on every request (the echo workload).
wrk.method = "POST"
wrk.body = string.rep("x", 10 * 1024 * 1024)
wrk.headers["Content-Type"] = "application/octet-stream"
