"""A disconnect-safe request path in front of the MCP SDK's streamable-HTTP app.

Why it exists: when a client disconnects while the SDK is still reading a request body, the
SDK logs ERROR tracebacks and, on some versions, crashes the stateless session with
``ClosedResourceError`` (python-sdk issue 2064). A client hanging up is not a server error.

The contract: the SDK sees a POST only once its whole body is in hand, as one JSON-RPC message
with the limits applied, and never sees its client leave until its response is complete;
streams that last until their client leaves (``subscriptions/listen``, GET) see the departure
at once. Every refusal and every departure is one WARNING at most, and what the guard learns of
the request (its ``RequestState``) is there for the access line. Exceptions from the SDK or a
tool propagate unchanged: this is not a filter that hides errors. What each case answers and
logs is the README's "The disconnect guard" and "Behaviour under faults".
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Final

import anyio
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..jsonrpc import (
    INVALID_REQUEST,
    RejectedRequest,
    RequestCheck,
    error_body,
    parse_message,
)
from ..requests import (
    BODY_TIMEOUT,
    BODY_TOO_LARGE,
    CLIENT_LEFT,
    CUT_SHORT,
    EARLY_DISCONNECT,
    LATE_DISCONNECT,
    OK,
    REFUSED,
    REFUSED_EVENT,
    RPC_ERROR,
    RequestState,
    client_address,
)

logger = logging.getLogger(__name__)

# JSON-RPC methods whose response stream ends only when the client leaves.
LONG_LIVED_METHODS: Final = frozenset({"subscriptions/listen"})

_DISCONNECT: Final[Message] = {"type": "http.disconnect"}
_JSON: Final = b"application/json"


class DisconnectGuard:
    """Pure ASGI middleware; wrap the SDK's app with it (see ``http.build_http_app``)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        body_timeout: float,
        check_request: RequestCheck | None = None,
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
        # What the SDK line answers wrongly (``sdk.check_request``).
        self.check_request = check_request
        # The refusals, built once: only their status and message differ.
        self._too_large = _refusal(
            413, f"Request body too large: the limit is {max_body_bytes} bytes"
        )
        self._timed_out = _refusal(
            408, f"Request body not received within {body_timeout:g} seconds"
        )
        self._shutting_down = _refusal(503, "Service Unavailable: the server is shutting down")
        self._not_json = _refusal(
            415, "Unsupported Media Type: send Content-Type: application/json"
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
        state = RequestState.of(scope)

        declared: int | None = None
        json_body = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                # uvicorn has already refused a Content-Length that is not a number.
                declared = int(value) if value.isdigit() else None
            elif name == b"content-type":
                json_body = value.split(b";", 1)[0].strip().lower() == _JSON
        if not json_body:
            await self._refuse(self._not_json, REFUSED_EVENT, state, scope, receive, send)
            return
        if declared is not None and declared > self.max_body_bytes:
            _warn("request rejected, body too large", scope, state, f"{declared} bytes declared")
            await self._refuse(self._too_large, BODY_TOO_LARGE, state, scope, receive, send)
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
                        state.outcome = CLIENT_LEFT
                        state.event = EARLY_DISCONNECT
                        detail = f"{received} of {_of(declared)} bytes received"
                        _warn(_EARLY_DISCONNECT, scope, state, detail)
                        return
                    chunk: bytes = message.get("body", b"")
                    received += len(chunk)
                    if received > self.max_body_bytes:
                        detail = f"over {self.max_body_bytes} bytes streamed"
                        _warn("request rejected, body too large", scope, state, detail)
                        await self._refuse(
                            self._too_large, BODY_TOO_LARGE, state, scope, receive, send
                        )
                        return
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            detail = f"{received} of {_of(declared)} bytes received"
            _warn("request rejected, body timed out", scope, state, detail)
            await self._refuse(self._timed_out, BODY_TIMEOUT, state, scope, receive, send)
            return

        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        try:
            rpc = parse_message(body)
        except RejectedRequest as rejected:
            logger.debug("request refused before the SDK: %s %s", rejected.status, rejected)
            response = Response(rejected.response, rejected.status, media_type="application/json")
            await self._refuse(response, REFUSED_EVENT, state, scope, receive, send)
            return
        state.read_message(rpc)
        if self.check_request is not None:
            answer = self.check_request(scope, rpc)
            if answer is not None:
                # The JSON-RPC error the SDK would have answered, had it checked: no refusal.
                state.outcome = RPC_ERROR
                state.code = answer.code
                response = Response(answer.response, answer.status, media_type="application/json")
                await response(scope, receive, send)
                return
        if rpc.get("method") in LONG_LIVED_METHODS:
            await self._call_listener(scope, body, receive, send)
            return
        self._in_flight += 1
        try:
            await self._call_shielded(scope, body, state, receive, send)
        finally:
            self._in_flight -= 1
            self._end_listeners_if_drained()

    async def _refuse(
        self,
        response: Response,
        event: str,
        state: RequestState,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        state.outcome = REFUSED
        state.event = event
        await response(scope, receive, send)

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
        self, scope: Scope, body: bytes, state: RequestState, receive: Receive, send: Send
    ) -> None:
        """Run the SDK with the body in hand, hiding a disconnect until its response is done."""
        call = _ShieldedCall(scope, body, state, receive, send)
        # A plain asyncio task, not an anyio task group: this runs for every request, and a
        # task group's cancellation costs some 50 us where cancelling a task costs 7 (measured
        # per request in the guard alone). uvicorn always runs the app on asyncio.
        watcher = asyncio.get_running_loop().create_task(call.watch_for_disconnect())
        try:
            with anyio.CancelScope() as cut_scope:  # cut_short() cancels it at shutdown
                self._running.add(cut_scope)
                try:
                    await self.app(scope, call.replay_receive, call.guarded_send)
                finally:
                    self._running.discard(cut_scope)
        finally:
            if not call.response_complete:
                watcher.cancel()
            # Else uvicorn has already woken the watcher with the disconnect it reports after
            # every complete response, and the watcher ends by itself: cheaper than a cancel.
        if cut_scope.cancelled_caught and not call.final_body_sending:
            # Cut short by a shutdown that would not wait any longer: end the response properly.
            state.outcome = state.event = CUT_SHORT
            _warn("shutdown cut a request short", scope, state)
            if not call.response_started:
                await self._shutting_down(scope, receive, send)
            elif not call.client_gone:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        elif state.outcome == OK:
            state.read_answer(call.last_chunk)


class _ShieldedCall:
    """One shielded call: the SDK's ``receive`` and ``send``, and what they have seen so far."""

    __slots__ = (
        "body",
        "body_delivered",
        "bytes_sent",
        "client_gone",
        "final_body_sending",
        "last_chunk",
        "receive",
        "response_complete",
        "response_done",
        "response_started",
        "scope",
        "send",
        "state",
    )

    def __init__(
        self, scope: Scope, body: bytes, state: RequestState, receive: Receive, send: Send
    ) -> None:
        self.scope = scope
        self.body = body
        self.state = state
        self.receive = receive
        self.send = send
        self.body_delivered = False
        self.response_started = False
        self.final_body_sending = False
        self.client_gone = False
        self.bytes_sent = 0
        self.last_chunk = b""  # the response is in it, once the answer is complete
        self.response_complete = False  # the final piece has reached the server
        self.response_done = asyncio.Event()

    async def replay_receive(self) -> Message:
        """The whole body once, then a disconnect only after the response is complete."""
        if not self.body_delivered:
            self.body_delivered = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self.response_done.wait()
        return _DISCONNECT

    async def guarded_send(self, message: Message) -> None:
        """Pass the response on while the client is there; drop it once it has left."""
        self.response_started = True
        is_final = message["type"] == "http.response.body" and not message.get("more_body", False)
        if is_final:
            self.final_body_sending = True
        if message["type"] == "http.response.body" and (chunk := message.get("body")):
            self.last_chunk = chunk
        if not self.client_gone:
            self.bytes_sent += len(message.get("body", b""))
            await self.send(message)
        if is_final:
            self.response_complete = True
            self.response_done.set()

    async def watch_for_disconnect(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass
        # uvicorn also reports a disconnect once the response is complete; that is no departure.
        if not self.final_body_sending:
            self.client_gone = True
            self.state.outcome = CLIENT_LEFT
            self.state.event = LATE_DISCONNECT
            detail = f"{self.bytes_sent} response bytes sent"
            _warn(_LATE_DISCONNECT, self.scope, self.state, detail)


_EARLY_DISCONNECT: Final = (
    "client disconnected before its request body was complete, request discarded"
)
_LATE_DISCONNECT: Final = (
    "client disconnected before the response was complete, the rest is dropped and the "
    "request runs to completion"
)


def _refusal(status: int, message: str) -> Response:
    """An answer to a request whose body was not (all) read: the connection cannot be reused."""
    return Response(
        error_body(INVALID_REQUEST, message),
        status,
        headers={"connection": "close"},
        media_type="application/json",
    )


def _of(declared: int | None) -> str:
    return "unknown (chunked)" if declared is None else str(declared)


def _warn(what: str, scope: Scope, state: RequestState, detail: str | None = None) -> None:
    """The guard's one WARNING per event: what happened, to which request, from whom.

    At DEBUG, a second line adds what helps to tell a flaky network from a misbehaving client.
    """
    rpc = f" ({state.method} id={state.rpc_id})" if state.method is not None else ""
    logger.warning(
        "%s: %s %s%s, %sclient %s, request %s",
        what,
        scope["method"],
        scope["path"],
        rpc,
        f"{detail}, " if detail else "",
        client_address(scope),
        state.request_id,
    )
    if not logger.isEnabledFor(logging.DEBUG):
        return
    headers = dict(scope["headers"])
    logger.debug(
        "request %s: after %.3f s; user-agent %r, content-type %r, transfer-encoding %r, HTTP/%s",
        state.request_id,
        state.elapsed_ms() / 1000,
        headers.get(b"user-agent", b"").decode("latin-1"),
        headers.get(b"content-type", b"").decode("latin-1"),
        headers.get(b"transfer-encoding", b"").decode("latin-1"),
        scope.get("http_version", "?"),
    )
