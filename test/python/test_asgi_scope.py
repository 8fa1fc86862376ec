"""http_scope(): the ASGI HTTP connection scope from a RequestHead (www spec 2.4)."""
import unittest

from test_asgi_fakes import make_head

from portico.asgi.scope import EXTENSIONS, http_scope, request_headers, websocket_scope


class HTTPScopeTest(unittest.TestCase):
    def test_fields_come_from_the_head(self):
        head = make_head(method="POST", path=b"/app/items", raw_path=b"/app/items", query_string=b"a=1&b=%20",
                         root_path=b"/app", http_version="2", scheme="https",
                         client=("10.0.0.1", 4242), server=("0.0.0.0", 443))
        scope = http_scope(head, {}, EXTENSIONS)
        self.assertEqual(scope["type"], "http")
        self.assertEqual(scope["asgi"], {"version": "3.0", "spec_version": "2.4"})
        self.assertEqual(scope["http_version"], "2")
        self.assertEqual(scope["method"], "POST")
        self.assertEqual(scope["scheme"], "https")
        self.assertEqual(scope["path"], "/app/items")
        self.assertEqual(scope["raw_path"], b"/app/items")
        self.assertEqual(scope["query_string"], b"a=1&b=%20")
        self.assertEqual(scope["root_path"], "/app")
        self.assertEqual(scope["client"], ("10.0.0.1", 4242))
        self.assertEqual(scope["server"], ("0.0.0.0", 443))

    def test_path_includes_the_root_path(self):
        scope = http_scope(make_head(path=b"/mount/x", root_path=b"/mount"))
        self.assertTrue(scope["path"].startswith(scope["root_path"]))

    def test_path_is_utf8_decoded_and_raw_path_kept(self):
        head = make_head(path="/caf\u00e9".encode("utf-8"), raw_path=b"/caf%C3%A9")
        scope = http_scope(head)
        self.assertEqual(scope["path"], "/caf\u00e9")
        self.assertEqual(scope["raw_path"], b"/caf%C3%A9")

    def test_path_bytes_that_are_not_utf8_become_replacement_characters(self):
        # As uvicorn's unquote() (errors='replace'); raw_path has the bytes.
        scope = http_scope(make_head(path=b"/a\xffb", raw_path=b"/a%FFb"))
        self.assertEqual(scope["path"], "/a\ufffdb")
        self.assertEqual(scope["raw_path"], b"/a%FFb")

    def test_unix_socket_server_and_no_client(self):
        scope = http_scope(make_head(client=None, server=("/run/portico.sock", None)))
        self.assertIsNone(scope["client"])
        self.assertEqual(scope["server"], ("/run/portico.sock", None))

    def test_headers_keep_order_and_duplicates(self):
        headers = [(b"host", b"example.com"), (b"accept", b"a"), (b"cookie", b"x=1"), (b"accept", b"b")]
        scope = http_scope(make_head(headers=headers))
        self.assertEqual([list(h) for h in scope["headers"]], [list(h) for h in headers])
        for name, value in scope["headers"]:
            self.assertIsInstance(name, bytes)
            self.assertIsInstance(value, bytes)

    def test_header_names_with_underscore_are_dropped(self):
        # src/http/request-headers.ts: X-Forwarded_For could pass for X-Forwarded-For.
        headers = [(b"x-forwarded_for", b"6.6.6.6"), (b"x-forwarded-for", b"1.2.3.4"), (b"a_b", b"c")]
        scope = http_scope(make_head(headers=headers))
        self.assertEqual(scope["headers"], [(b"x-forwarded-for", b"1.2.3.4")])

    def test_proxy_header_is_dropped(self):
        scope = http_scope(make_head(headers=[(b"proxy", b"http://evil:8080"), (b"accept", b"*/*")]))
        self.assertEqual(scope["headers"], [(b"accept", b"*/*")])

    def test_content_type_and_length_stay(self):
        headers = [(b"content-type", b"application/json"), (b"content-length", b"2")]
        self.assertEqual(http_scope(make_head(headers=headers))["headers"], headers)

    def test_http2_pseudo_fields_are_removed_and_authority_becomes_host(self):
        headers = [(b":method", b"GET"), (b":authority", b"example.com:8443"), (b"host", b"other"),
                   (b"accept", b"*/*")]
        self.assertEqual(request_headers(headers), [(b"host", b"example.com:8443"), (b"accept", b"*/*")])

    def test_state_is_a_shallow_copy(self):
        pool = object()
        state = {"pool": pool}
        scope = http_scope(make_head(), state)
        self.assertEqual(scope["state"], state)
        self.assertIsNot(scope["state"], state)
        self.assertIs(scope["state"]["pool"], pool)
        scope["state"]["request_only"] = 1
        self.assertNotIn("request_only", state)

    def test_state_without_lifespan_is_empty(self):
        self.assertEqual(http_scope(make_head(), None)["state"], {})

    def test_extensions_offered_by_default(self):
        scope = http_scope(make_head())
        self.assertEqual(scope["extensions"], {
            "http.response.pathsend": {}, "http.response.trailers": {}, "http.response.early_hint": {}})

    def test_extensions_as_offered_and_fresh_per_request(self):
        first = http_scope(make_head(), None, ["http.response.pathsend"])
        second = http_scope(make_head(), None, {"http.response.pathsend": {}})
        self.assertEqual(first["extensions"], {"http.response.pathsend": {}})
        first["extensions"]["http.response.pathsend"]["x"] = 1
        self.assertEqual(second["extensions"], {"http.response.pathsend": {}})
        self.assertEqual(http_scope(make_head(), None, ())["extensions"], {})

    def test_tls_extension_only_over_tls_and_a_copy_per_request(self):
        tls = {"server_cert": None, "client_cert_chain": ["PEM"], "client_cert_name": "CN=c",
               "client_cert_error": None, "tls_version": 0x0304, "cipher_suite": 0x1301}
        self.assertNotIn("tls", http_scope(make_head())["extensions"])
        first = http_scope(make_head(scheme="https", tls=tls))
        self.assertEqual(first["extensions"]["tls"], tls)
        first["extensions"]["tls"]["client_cert_chain"].append("more")
        self.assertEqual(http_scope(make_head(scheme="https", tls=tls))["extensions"]["tls"]["client_cert_chain"], ["PEM"])
        self.assertEqual(websocket_scope(make_head(scheme="https", tls=tls))["extensions"]["tls"], tls)


if __name__ == "__main__":
    unittest.main()
