"""A disconnect-safe request path in front of the MCP SDK's streamable-HTTP app.

Why it exists: when a client disconnects while the SDK is still reading a request body, the
SDK logs ERROR tracebacks and, on some versions, crashes the stateless session with
``ClosedResourceError`` (python-sdk issue 2064). A client hanging up is not a server error.

What it does, for POST requests (GET streams only get the listener handling below):

* refuses a body that is not ``application/json`` (415) before reading it;
* reads the whole body before the SDK sees the request, with a size limit (413, without
  reading the rest) and a deadline (408);
* if the client leaves before its body is complete, logs one WARNING and never calls the SDK;
* answers a body that is not one JSON-RPC message itself (400, see ``jsonrpc.py``), and one
  whose routing headers the SDK line's ``check_protocol_headers`` refuses (400, JSON-RPC
  -32020; on 2.x, a protocol-version header that disagrees with the body);
* once the body is read, gives the SDK a ``receive`` that hides a later disconnect until the
  SDK's response is finished, so its error path never writes to a closed stream. A client that
  leaves mid-response gets one WARNING; the rest of the response is dropped and the tool runs
  to completion, so it never stops half-way through its side effects;
* requests that by design stream until the client leaves (``subscriptions/listen``, and GET
  streams) see the real disconnect at once: hiding it would keep their task alive forever and
  block shutdown;
* counts the requests in flight, so that a graceful shutdown (``drain``) can let them finish
  before it ends the streams that would otherwise never end.

Everything else (other methods, lifespan and websocket scopes) passes through untouched, and
exceptions from the SDK or a tool propagate unchanged: this is not a filter that hides errors.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import time
from collections.abc import Callable
from typing import Any, Final, TypeAlias

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .jsonrpc import (
    HEADER_MISMATCH,
    INVALID_REQUEST,
    RejectedRequest,
    error_body,
    parse_message,
)

logger = logging.getLogger(__name__)

# Why a request's headers disagree with its JSON-RPC message, or None when they agree.
HeaderCheck: TypeAlias = Callable[[Scope, dict[str, Any]], str | None]

# JSON-RPC methods whose response stream ends only when the client leaves.
LONG_LIVED_METHODS: Final = frozenset({"subscriptions/listen"})

_DISCONNECT: Final[Message] = {"type": "http.disconnect"}
_JSON: Final = b"application/json"


class DisconnectGuard:
    """Pure ASGI middleware; wrap the SDK's app with it (see ``app.create_app``)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        body_timeout: float,
        check_headers: HeaderCheck | None = None,
    ) -> None:
        if max_body_bytes <= 0:
            raise ValueError(
                f"max_body_bytes must be a positive number of bytes, got {max_body_bytes}"
            )
        if not (body_timeout > 0 and math.isfinite(body_timeout)):
            raise ValueError(
                f"body_timeout must be a positive number of seconds, got {body_timeout}"
            )
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        # What the SDK leaves unchecked in the routing headers of its protocol revisions.
        self.check_headers = check_headers
        self._too_large = error_body(
            INVALID_REQUEST, f"Request body too large: the limit is {max_body_bytes} bytes"
        )
        self._timed_out = error_body(
            INVALID_REQUEST, f"Request body not received within {body_timeout:g} seconds"
        )
        self._shutting_down = error_body(
            INVALID_REQUEST, "Service Unavailable: the server is shutting down"
        )
        self._not_json = error_body(
            INVALID_REQUEST, "Unsupported Media Type: send Content-Type: application/json"
        )
        self._in_flight = 0
        self._draining = False
        self._running: set[anyio.CancelScope] = set()
        self._listeners_end: anyio.Event | None = None

    def drain(self) -> None:
        """Begin a graceful shutdown: once no request is in flight, end the listener streams.

        Call it on the event loop's thread. Until then, requests in flight run to completion.
        """
        self._draining = True
        self._end_listeners_if_drained()

    def cut_short(self) -> None:
        """Cancel the requests in flight, each ending its response cleanly; for shutdown.

        Call it on the event loop's thread. Each cut request logs one WARNING.
        """
        for cancel_scope in self._running:
            cancel_scope.cancel()

    def _end_listeners_if_drained(self) -> None:
        if self._draining and self._in_flight == 0 and self._listeners_end is not None:
            self._listeners_end.set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            if scope["method"] == "GET":  # server messages, streamed until the client leaves
                await self._call_listener(scope, None, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        started = time.monotonic()

        declared: int | None = None
        json_body = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                # uvicorn has already refused a Content-Length that is not a number.
                declared = int(value) if value.isdigit() else None
            elif name == b"content-type":
                json_body = value.split(b";", 1)[0].strip().lower() == _JSON
        if not json_body:
            await _send_response(send, 415, self._not_json, close=True)
            return
        if declared is not None and declared > self.max_body_bytes:
            _log_rejected(scope, "body too large", f"{declared} bytes declared", started)
            await _send_response(send, 413, self._too_large, close=True)
            return

        chunks: list[bytes] = []
        received = 0
        # asyncio's own timeout rather than an anyio cancel scope: this runs for every request,
        # and uvicorn always runs the app on asyncio.
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        _log_early_disconnect(scope, received, declared, started)
                        return
                    chunk: bytes = message.get("body", b"")
                    received += len(chunk)
                    if received > self.max_body_bytes:
                        detail = f"over {self.max_body_bytes} bytes streamed"
                        _log_rejected(scope, "body too large", detail, started)
                        await _send_response(send, 413, self._too_large, close=True)
                        return
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            detail = f"{received} of {_of(declared)} bytes received"
            _log_rejected(scope, "body timed out", detail, started)
            await _send_response(send, 408, self._timed_out, close=True)
            return

        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        try:
            rpc = parse_message(body)
        except RejectedRequest as rejected:
            logger.debug("request refused before the SDK: %s %s", rejected.status, rejected)
            await _send_response(send, rejected.status, rejected.response)
            return
        if self.check_headers is not None:
            mismatch = self.check_headers(scope, rpc)
            if mismatch is not None:
                answer = error_body(HEADER_MISMATCH, mismatch, rpc.get("id"))
                await _send_response(send, 400, answer)
                return
        if rpc.get("method") in LONG_LIVED_METHODS:
            await self._call_listener(scope, body, receive, send)
            return
        self._in_flight += 1
        try:
            await self._call_shielded(scope, body, rpc, started, receive, send)
        finally:
            self._in_flight -= 1
            self._end_listeners_if_drained()

    async def _call_listener(
        self, scope: Scope, body: bytes | None, receive: Receive, send: Send
    ) -> None:
        """Run a stream that lasts until its client leaves, or until shutdown ends it.

        Its client's departure reaches the SDK at once (hiding it would keep the stream's task
        alive forever). A graceful shutdown ends it once no request is in flight, as if its
        client had left, and a stream the SDK stops mid-way is closed properly.
        """
        if self._listeners_end is None:
            self._listeners_end = anyio.Event()
            self._end_listeners_if_drained()
        listeners_end = self._listeners_end
        body_delivered = body is None
        response_started = False
        response_done = False

        async def listener_receive() -> Message:
            nonlocal body_delivered
            if body is not None and not body_delivered:
                body_delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            message = _DISCONNECT

            async def client_event() -> None:
                nonlocal message
                message = await receive()
                task_group.cancel_scope.cancel()

            async def shutdown() -> None:
                await listeners_end.wait()
                task_group.cancel_scope.cancel()

            async with anyio.create_task_group() as task_group:
                task_group.start_soon(client_event)
                task_group.start_soon(shutdown)
            return message

        async def listener_send(message: Message) -> None:
            nonlocal response_started, response_done
            response_started = True
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                response_done = True
            await send(message)

        await self.app(scope, listener_receive, listener_send)
        if response_started and not response_done:
            # Stopped by the SDK mid-stream (at shutdown, say): close the stream properly rather
            # than leave uvicorn to report an incomplete response as an error.
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _call_shielded(
        self,
        scope: Scope,
        body: bytes,
        rpc: dict[str, Any],
        started: float,
        receive: Receive,
        send: Send,
    ) -> None:
        """Run the SDK with the body in hand, hiding a disconnect until its response is done."""
        body_delivered = False
        response_started = False
        final_body_sending = False
        client_gone = False
        response_done = asyncio.Event()
        bytes_sent = 0

        async def replay_receive() -> Message:
            nonlocal body_delivered
            if not body_delivered:
                body_delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await response_done.wait()
            return _DISCONNECT

        async def guarded_send(message: Message) -> None:
            nonlocal response_started, final_body_sending, bytes_sent
            response_started = True
            is_final = message["type"] == "http.response.body" and not message.get(
                "more_body", False
            )
            if is_final:
                final_body_sending = True
            if not client_gone:
                bytes_sent += len(message.get("body", b""))
                await send(message)
            if is_final:
                response_done.set()

        async def watch_for_disconnect() -> None:
            nonlocal client_gone
            while (await receive())["type"] != "http.disconnect":
                pass
            # uvicorn also reports a disconnect once the response is complete; that is no departure.
            if not final_body_sending:
                client_gone = True
                _log_late_disconnect(scope, rpc, bytes_sent, started)

        # A plain asyncio task, not an anyio task group: this runs for every request, and a
        # task group's cancellation costs some 50 us where cancelling a task costs 7 (measured
        # with benchmarks/guard_overhead.py). uvicorn always runs the app on asyncio.
        watcher = asyncio.get_running_loop().create_task(watch_for_disconnect())
        try:
            with anyio.CancelScope() as cut_scope:  # cut_short() cancels it at shutdown
                self._running.add(cut_scope)
                try:
                    await self.app(scope, replay_receive, guarded_send)
                finally:
                    self._running.discard(cut_scope)
        finally:
            watcher.cancel()
        if cut_scope.cancelled_caught and not final_body_sending:
            # Cut short by a shutdown that would not wait any longer: end the response properly.
            _log_cut_by_shutdown(scope, rpc, started)
            if not response_started:
                await _send_response(send, 503, self._shutting_down, close=True)
            elif not final_body_sending and not client_gone:
                await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _send_response(send: Send, status: int, body: bytes, *, close: bool = False) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        # The rest of the request body was not read, so the connection cannot be reused.
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _of(declared: int | None) -> str:
    return "unknown (chunked)" if declared is None else str(declared)


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "unknown"


def _request_id(scope: Scope) -> str:
    """The client's or proxy's ``X-Request-ID`` (to correlate logs), else a fresh one."""
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            printable: str = value.decode("latin-1")[:64]
            if printable.isprintable() and " " not in printable:
                return printable
    return secrets.token_hex(6)


def _log_early_disconnect(
    scope: Scope, received: int, declared: int | None, started: float
) -> None:
    logger.warning(
        "client disconnected before its request body was complete, request discarded: "
        "%s %s, %d of %s bytes received, client %s, request %s",
        scope["method"],
        scope["path"],
        received,
        _of(declared),
        _client(scope),
        request_id := _request_id(scope),
    )
    _log_detail(request_id, scope, started)


def _log_late_disconnect(
    scope: Scope, rpc: dict[str, Any], bytes_sent: int, started: float
) -> None:
    logger.warning(
        "client disconnected before the response was complete, the rest is dropped and the "
        "request runs to completion: %s %s (%s id=%s), %d response bytes sent, client %s, "
        "request %s",
        scope["method"],
        scope["path"],
        rpc.get("method"),
        rpc.get("id"),
        bytes_sent,
        _client(scope),
        request_id := _request_id(scope),
    )
    _log_detail(request_id, scope, started)


def _log_cut_by_shutdown(scope: Scope, rpc: dict[str, Any], started: float) -> None:
    logger.warning(
        "shutdown cut a request short: %s %s (%s id=%s), client %s, request %s",
        scope["method"],
        scope["path"],
        rpc.get("method"),
        rpc.get("id"),
        _client(scope),
        request_id := _request_id(scope),
    )
    _log_detail(request_id, scope, started)


def _log_rejected(scope: Scope, reason: str, detail: str, started: float) -> None:
    logger.warning(
        "request rejected, %s: %s %s, %s, client %s, request %s",
        reason,
        scope["method"],
        scope["path"],
        detail,
        _client(scope),
        request_id := _request_id(scope),
    )
    _log_detail(request_id, scope, started)


def _log_detail(request_id: str, scope: Scope, started: float) -> None:
    """At DEBUG, what else helps to tell a flaky network from a misbehaving client."""
    if not logger.isEnabledFor(logging.DEBUG):
        return
    headers = dict(scope["headers"])
    logger.debug(
        "request %s: after %.3f s; user-agent %r, content-type %r, transfer-encoding %r, HTTP/%s",
        request_id,
        time.monotonic() - started,
        headers.get(b"user-agent", b"").decode("latin-1"),
        headers.get(b"content-type", b"").decode("latin-1"),
        headers.get(b"transfer-encoding", b"").decode("latin-1"),
        scope.get("http_version", "?"),
    )
