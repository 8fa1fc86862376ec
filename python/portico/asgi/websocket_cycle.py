"""Runs one WebSocket through an ASGI application: the ``receive`` and
``send`` it gets, and the one terminal call its transport gets.

ASGI 3.0, HTTP & WebSocket spec 2.4 (the "www spec"), its WebSocket
section, and the "WebSocket Denial Response" extension. One WebSocketCycle
per connection, over a WebSocketTransport (transport.py). The application
is checked as the HTTP cycle checks it: a message out of order or
malformed raises ASGIViolation into it, and the connection never carries
what it broke.

    send() state:  connecting ──accept──> open ──close──> closed
                       │ └──close──> 403, over
                       └──http.response.start──> denying ──final body──> over

    receive():     websocket.connect, then (once accepted) websocket.receive
                   per client message, then websocket.disconnect, on every
                   call after that too

How it ends (docs/protocol.md "WebSocket frames"):
    the application returns after accept      finish()       the front closes 1000
    it raises after accept                    fail(500)      the front logs, closes 1011
    it returns or raises before accept        fail(500)      the client gets a 500
    close before accept                       403, finish()  (www spec, "Close")
"""
from __future__ import annotations

import asyncio

from .cycle import ABORTED, FINISHED, Cycle, run_cycle
from .errors import ASGIViolation, ClientDisconnected, MessageTooLarge
from .fields import check_fields, check_handshake_fields, check_status
from .report import error_text, stderr_log, violation_text
from .scope import DENIAL_RESPONSE, WEBSOCKET_EXTENSIONS, websocket_scope

CONNECTING = "connecting"
DENYING = "denying"    # websocket.http.response.start came; its body follows
OPEN = "open"          # accepted
CLOSED = "closed"      # accepted, then the application sent websocket.close

# RFC 6455 7.4.1: 1006, a connection that ended without a close frame: what
# the application hears when the client left before the handshake was done.
ABNORMAL_CLOSURE = 1006
# RFC 6455 5.5: a control frame's payload is at most 125 bytes, the close
# code's 2 included.
MAX_CLOSE_REASON = 123


async def run_websocket(app, head, transport, state: dict | None = None, extensions=WEBSOCKET_EXTENSIONS,
                        log=stderr_log) -> "WebSocketCycle":
    """Runs ``app`` for the WebSocket handshake ``head`` (a RequestHead)
    over ``transport`` (a WebSocketTransport), as one call; returns the
    cycle. The arguments are run_http's; the transport gets exactly one of
    finish() and fail(), and nothing after it."""
    return await run_cycle(WebSocketCycle, websocket_scope, app, head, transport, state, extensions, log)


class WebSocketCycle(Cycle):
    """One WebSocket's receive(), send() and outcome. Made inside the
    running event loop."""

    def __init__(self, scope: dict, transport, log=stderr_log) -> None:
        super().__init__(scope, transport, log)
        self._denial = DENIAL_RESPONSE in (scope.get("extensions") or {})
        self.state = CONNECTING
        self._connect_given = False
        self._disconnect = None           # (code, reason) once the application heard it
        self._app_close = None            # (code, reason) of the application's websocket.close
        self.status = None                # the denial response's, once started
        self.headers = None
        self.head_sent = False

    # ------------------------------------------------------------ receive

    async def receive(self) -> dict:
        # www spec, "Connect": the first event, "when the client initially
        # opens a connection and is about to finish the handshake".
        if not self._connect_given:
            self._connect_given = True
            return {"type": "websocket.connect"}
        while self._disconnect is None:
            if self._app_close is not None:
                self._disconnect = self._app_close
            elif self.state == OPEN:
                if self._gone:
                    # send() already raised: the connection is over for
                    # the application, whatever messages were still queued.
                    self._disconnect = self.transport.close or (ABNORMAL_CLOSURE, "")
                    break
                item = await self.transport.read_message()
                if type(item) is tuple:
                    self._disconnect = self._app_close or item
                elif type(item) is str:
                    return {"type": "websocket.receive", "text": item}
                else:
                    return {"type": "websocket.receive", "bytes": item}
            elif self.outcome is not None:
                self._disconnect = (ABNORMAL_CLOSURE, "")
            elif self.transport.disconnected.is_set():
                self._disconnect = self.transport.close or (ABNORMAL_CLOSURE, "")
            else:
                # Not accepted: nothing can come from the client before the
                # application answers the handshake, only its leaving.
                await self._wait_answer_or_leave()
        code, reason = self._disconnect
        return {"type": "websocket.disconnect", "code": code, "reason": reason}

    async def _wait_answer_or_leave(self) -> None:
        waiters = [asyncio.ensure_future(self.transport.disconnected.wait()),
                   asyncio.ensure_future(self._settled.wait())]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _client_gone(self) -> bool:
        return self._gone or self.transport.disconnected.is_set()

    # --------------------------------------------------------------- send

    def _refused(self, message) -> bool:
        if self.outcome is not None or self._app_close is not None or self._client_gone():
            if _type_of(message) == "websocket.close":
                return True  # closing what is closed asks for nothing
            if self._client_gone():
                # From here on receive() says websocket.disconnect too,
                # whatever messages were still queued.
                self._gone = True
            # www spec 2.4, "Disconnected Client": an OSError subclass.
            raise ClientDisconnected("the WebSocket is closed")
        self._refuse_after_violation()
        return False

    async def _dispatch(self, message) -> None:
        kind = _type_of(message)
        if kind is None:
            raise ASGIViolation("send() was given a %s, expected a message dict with a 'type'"
                                % type(message).__name__)
        if kind == "websocket.send":
            await self._send_message(message)
        elif kind == "websocket.accept":
            self._accept(message)
        elif kind == "websocket.close":
            self._close(message)
        elif kind == "websocket.http.response.start" and self._denial:
            self._deny_start(message)
        elif kind == "websocket.http.response.body" and self._denial:
            await self._deny_body(message)
        else:
            raise ASGIViolation("unknown message type %r" % (kind,))

    def _accept(self, message) -> None:
        if self.state != CONNECTING:
            raise ASGIViolation("websocket.accept %s" % (
                "after websocket.http.response.start" if self.state == DENYING else "was sent twice"))
        subprotocol = message.get("subprotocol")
        if subprotocol is not None:
            # www spec, "Accept"; RFC 6455 4.2.2: the server picks one of
            # the values the client offered, or none.
            if not isinstance(subprotocol, str):
                raise ASGIViolation("websocket.accept subprotocol must be a str or None, got %s"
                                    % type(subprotocol).__name__)
            if subprotocol not in self.scope["subprotocols"]:
                raise ASGIViolation("websocket.accept subprotocol %r is not one the client offered (%s)"
                                    % (subprotocol, ", ".join(self.scope["subprotocols"]) or "none"))
        headers = check_handshake_fields(message.get("headers"))
        self.state = OPEN
        self._settled.set()
        self.transport.send_accept(subprotocol, headers)

    async def _send_message(self, message) -> None:
        if self.state != OPEN:
            raise ASGIViolation("websocket.send before websocket.accept")
        data = message.get("bytes")
        text = message.get("text")
        # www spec, "Send": "Exactly one of bytes or text must be non-None."
        if (data is None) == (text is None):
            raise ASGIViolation("websocket.send needs exactly one of bytes and text, got %s"
                                % ("both" if data is not None else "neither"))
        if text is not None:
            if not isinstance(text, str):
                raise ASGIViolation("websocket.send text must be a str, got %s" % type(text).__name__)
            try:
                # RFC 6455 5.6: a text message is UTF-8; a lone surrogate has none.
                data = text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise ASGIViolation("websocket.send text is not valid Unicode: %s" % exc) from None
        elif not isinstance(data, bytes):
            raise ASGIViolation("websocket.send bytes must be bytes, got %s" % type(data).__name__)
        if len(data) > self.transport.max_message:
            raise MessageTooLarge("a WebSocket message of %d bytes is larger than the %d portico carries"
                                  % (len(data), self.transport.max_message))
        await self.transport.send_message(data, text is not None)

    def _close(self, message) -> None:
        code = message.get("code", 1000)
        reason = message.get("reason") or ""
        if self.state == DENYING:
            raise ASGIViolation("websocket.close after websocket.http.response.start "
                                "(the denial response must be completed)")
        if type(code) is not int or not _sendable_close_code(code):
            raise ASGIViolation("websocket.close code %r is not one an endpoint may send "
                                "(RFC 6455 7.4: 1000-1003, 1007-1014, 3000-4999)" % (code,))
        if not isinstance(reason, str):
            raise ASGIViolation("websocket.close reason must be a str, got %s" % type(reason).__name__)
        try:
            size = len(reason.encode("utf-8"))
        except UnicodeEncodeError as exc:
            raise ASGIViolation("websocket.close reason is not valid Unicode: %s" % exc) from None
        if size > MAX_CLOSE_REASON:
            raise ASGIViolation("websocket.close reason is longer than %d bytes of UTF-8 (RFC 6455 5.5)"
                                % MAX_CLOSE_REASON)
        self._app_close = (code, reason)
        if self.state == CONNECTING:
            # www spec, "Close": before the accept, "the server must close
            # the connection with a HTTP 403 error code (Forbidden)".
            self.head_sent = True
            self.transport.send_head(403, [])
            self._end(FINISHED, False)
            return
        self.state = CLOSED
        self.transport.send_close(code, reason)

    def _deny_start(self, message) -> None:
        # Extensions, "WebSocket Denial Response": instead of the accept,
        # once; then websocket.http.response.body until more_body is False.
        if self.state != CONNECTING:
            raise ASGIViolation("websocket.http.response.start %s" % (
                "was sent twice" if self.state == DENYING else "after websocket.accept"))
        self.status = check_status(message.get("status"))
        self.headers, _ = check_fields(message.get("headers"))
        self.state = DENYING

    async def _deny_body(self, message) -> None:
        if self.state != DENYING:
            raise ASGIViolation("websocket.http.response.body before websocket.http.response.start")
        body = message.get("body", b"")
        if not isinstance(body, bytes):
            raise ASGIViolation("the response body must be bytes, got %s" % type(body).__name__)
        more = bool(message.get("more_body", False))
        if not self.head_sent:
            self.head_sent = True
            self.transport.send_head(self.status, self.headers)
        if body:
            await self.transport.send_body(body, more)
        if not more:
            self._end(FINISHED, False)

    # ---------------------------------------------------------------- run

    @property
    def accepted(self) -> bool:
        return self.state in (OPEN, CLOSED)

    def _raised(self, error) -> None:
        exc = error[1]
        if isinstance(exc, ClientDisconnected):
            # www spec 2.4: the server raised it, so it catches it and does
            # not log it as an error.
            self._gone = True
            if self.outcome is None:
                self._end(FINISHED if self.accepted else ABORTED, not self.accepted)
            return
        if self.outcome is not None:
            # After a 403 or a denial response went out: nothing to end.
            self.log("error", error_text(self.scope, error))
            return
        self._end_broken(self._broken_text(error))

    def _returned(self) -> None:
        if self.outcome is not None:
            return
        if self.violation is not None:
            self._end_broken(violation_text(self.scope, self.violation))
        elif self.accepted:
            self._end(FINISHED, False)
        elif self._client_gone():
            self._end(ABORTED, True)
        elif self.state == DENYING:
            self._end_broken(violation_text(
                self.scope, "the application returned without completing its denial response: "
                            "no websocket.http.response.body with more_body=False came"))
        else:
            self._end_broken(violation_text(
                self.scope, "the application returned without accepting or closing the WebSocket"))

    def _end_broken(self, text: str) -> None:
        if self.head_sent:
            # A denial response half sent: cut it, and say why in the log.
            self._end(ABORTED, True)
            self.log("error", text)
            return
        # Before the accept the client gets the 500; after it the front
        # logs the text and closes the socket with 1011 (RFC 6455 7.4.1).
        self._fail(text)


def _type_of(message):
    try:
        return message["type"]
    except (TypeError, KeyError, IndexError):
        return None


def _sendable_close_code(code: int) -> bool:
    # RFC 6455 7.4.1-2: 1004 is reserved, 1005, 1006 and 1015 are never
    # sent in a close frame; 1012-1014 are registered since (IANA);
    # 3000-4999 belong to libraries and applications. As the front's ws
    # library checks them.
    return 1000 <= code <= 1014 and code not in (1004, 1005, 1006) or 3000 <= code <= 4999
