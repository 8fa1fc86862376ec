#!/usr/bin/env python3
"""A Python CGI script: prints the CGI meta-variables it was given."""
import html
import os

print("Content-Type: text/html; charset=utf-8")
print()
print("<!doctype html><title>CGI environment</title><h1>CGI environment</h1><dl>")
for name in sorted(os.environ):
    print("<dt>%s</dt><dd>%s</dd>" % (html.escape(name), html.escape(os.environ[name])))
print("</dl>")
