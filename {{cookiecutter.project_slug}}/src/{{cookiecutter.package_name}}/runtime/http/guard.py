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
logs is ``docs/faults.md``.

The parts: ``DisconnectGuard`` dispatches and reads the body; a ``ShieldedCall`` runs the SDK
for one POST; a ``ListenerCall`` runs one stream that lasts until its client leaves.

Having read the message, the guard also picks which of the SDK's apps answers it, when it has
two: a POST whose client can hear nothing before its answer (``jsonrpc.needs_stream``) goes to
the one that answers with plain JSON, every other request to the one that streams. Both kinds
get every guarantee above.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Final, NamedTuple

import anyio
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..jsonrpc import (
    INVALID_REQUEST,
    RejectedRequest,
    RequestCheck,
    error_body,
    needs_stream,
    parse_message,
)
from ..requests import Event, Outcome, RequestState, client_address

logger = logging.getLogger(__name__)

# JSON-RPC methods whose response stream ends only when the client leaves.
LONG_LIVED_METHODS: Final = frozenset({"subscriptions/listen"})

_DISCONNECT: Final[Message] = {"type": "http.disconnect"}
_JSON: Final = b"application/json"


class Refusal(NamedTuple):
    """An answer given before the SDK sees the request, and the event it counts as."""

    response: Response
    event: Event


class DisconnectGuard:
    """Pure ASGI middleware; wrap the SDK's app with it (see ``http.app.build_http_app``)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        body_timeout: float,
        check_request: RequestCheck | None = None,
        json_app: ASGIApp | None = None,
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
        # Answers, with plain JSON, the POSTs that need no stream; None: ``app`` answers all.
        self.json_app = json_app
        self.max_body_bytes = max_body_bytes
        self.body_timeout = body_timeout
        # What the SDK line answers wrongly (``sdk.check_request``).
        self.check_request = check_request
        # The refusals, built once: only their status and message differ.
        self._too_large = Refusal(
            _refusal(413, f"Request body too large: the limit is {max_body_bytes} bytes"),
            Event.BODY_TOO_LARGE,
        )
        self._timed_out = Refusal(
            _refusal(408, f"Request body not received within {body_timeout:g} seconds"),
            Event.BODY_TIMEOUT,
        )
        self._not_json = Refusal(
            _refusal(415, "Unsupported Media Type: send Content-Type: application/json"),
            Event.UNREADABLE,
        )
        self._shutting_down = _refusal(503, "Service Unavailable: the server is shutting down")
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

    def listeners_end(self) -> anyio.Event:
        """What ends the listener streams: set once draining and no request is in flight."""
        if self._listeners_end is None:
            self._listeners_end = anyio.Event()
            self._end_listeners_if_drained()
        return self._listeners_end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
        elif scope["method"] == "POST":
            await self._post(scope, receive, send)
        elif scope["method"] == "GET":  # server messages, streamed until the client leaves
            await ListenerCall(self, scope, None, receive, send).run()
        else:
            await self.app(scope, receive, send)

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One POST: its body read and checked, then the SDK run with it in hand."""
        state = RequestState.of(scope)
        body = await self._read_body(scope, state, receive)
        if isinstance(body, Refusal):
            state.refused(body.event)
            await body.response(scope, receive, send)
            return
        if body is None:  # the client left; the warning is written
            return
        try:
            rpc = parse_message(body)
        except RejectedRequest as rejected:
            logger.debug("request refused before the SDK: %s %s", rejected.status, rejected)
            state.refused(Event.UNREADABLE)
            await _answer(rejected, scope, receive, send)
            return
        state.read_message(rpc)
        if self.check_request is not None and (answer := self.check_request(scope, rpc)):
            # The JSON-RPC error the SDK would have answered, had it checked: no refusal.
            state.outcome = Outcome.RPC_ERROR
            state.code = answer.code
            await _answer(answer, scope, receive, send)
            return
        if rpc.get("method") in LONG_LIVED_METHODS:
            await ListenerCall(self, scope, body, receive, send).run()
            return
        app = self.app
        if self.json_app is not None and not needs_stream(rpc):
            app = self.json_app
        self._in_flight += 1
        try:
            await self._call_shielded(app, scope, body, state, receive, send)
        finally:
            self._in_flight -= 1
            self._end_listeners_if_drained()

    async def _read_body(
        self, scope: Scope, state: RequestState, receive: Receive
    ) -> bytes | Refusal | None:
        """The whole body; a refusal when it is not JSON, too large or too slow; None when the
        client left first (after one WARNING)."""
        declared: int | None = None
        json_body = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                # uvicorn has already refused a Content-Length that is not a number.
                declared = int(value) if value.isdigit() else None
            elif name == b"content-type":
                json_body = value.split(b";", 1)[0].strip().lower() == _JSON
        if not json_body:
            return self._not_json
        if declared is not None and declared > self.max_body_bytes:
            _warn("request rejected, body too large", scope, state, f"{declared} bytes declared")
            return self._too_large

        chunks: list[bytes] = []
        received = 0
        # asyncio's own timeout rather than an anyio cancel scope: this runs for every request,
        # and uvicorn always runs the app on asyncio.
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        state.outcome = Outcome.CLIENT_LEFT
                        state.event = Event.EARLY_DISCONNECT
                        detail = f"{received} of {_of(declared)} bytes received"
                        _warn(_EARLY_DISCONNECT, scope, state, detail)
                        return None
                    chunk: bytes = message.get("body", b"")
                    received += len(chunk)
                    if received > self.max_body_bytes:
                        detail = f"over {self.max_body_bytes} bytes streamed"
                        _warn("request rejected, body too large", scope, state, detail)
                        return self._too_large
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            detail = f"{received} of {_of(declared)} bytes received"
            _warn("request rejected, body timed out", scope, state, detail)
            return self._timed_out
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _call_shielded(
        self,
        app: ASGIApp,
        scope: Scope,
        body: bytes,
        state: RequestState,
        receive: Receive,
        send: Send,
    ) -> None:
        """Run ``app`` with the body in hand, hiding a disconnect until its response is done."""
        call = ShieldedCall(scope, body, state, receive, send)
        # A plain asyncio task, not an anyio task group: this runs for every request, and a
        # task group's cancellation costs some 50 us where cancelling a task costs 7 (measured
        # per request in the guard alone). uvicorn always runs the app on asyncio.
        watcher = asyncio.get_running_loop().create_task(call.watch_for_disconnect())
        try:
            with anyio.CancelScope() as cut_scope:  # cut_short() cancels it at shutdown
                self._running.add(cut_scope)
                try:
                    await app(scope, call.receive_replayed, call.send_guarded)
                finally:
                    self._running.discard(cut_scope)
        finally:
            if not call.finished.is_set():
                watcher.cancel()
            # Else uvicorn has already woken the watcher with the disconnect it reports after
            # every complete response, and the watcher ends by itself: cheaper than a cancel.
        if cut_scope.cancelled_caught and not call.sending_last:
            # Cut short by a shutdown that would not wait any longer: end the response properly.
            state.outcome = Outcome.CUT_SHORT
            state.event = Event.CUT_SHORT
            _warn("shutdown cut a request short", scope, state)
            if not call.started:
                await self._shutting_down(scope, receive, send)
            elif not call.client_gone:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        elif state.outcome is Outcome.OK:
            state.read_answer(call.last_chunk)


class ShieldedCall:
    """One POST run by the SDK: the ``receive`` and ``send`` it gets, and what they have seen.

    The response goes through three stages: not ``started``; started; ``sending_last`` (its
    final piece is on its way, so a disconnect now is no departure); ``finished`` (that piece
    has reached the server, which then reports a disconnect of its own).
    """

    __slots__ = (
        "body",
        "body_delivered",
        "bytes_sent",
        "client_gone",
        "finished",
        "last_chunk",
        "receive",
        "scope",
        "send",
        "sending_last",
        "started",
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
        self.started = False
        self.sending_last = False
        self.finished = asyncio.Event()
        self.client_gone = False
        self.bytes_sent = 0
        self.last_chunk = b""  # the response is in it, once the answer is complete

    async def receive_replayed(self) -> Message:
        """The whole body once, then a disconnect only after the response is complete."""
        if not self.body_delivered:
            self.body_delivered = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self.finished.wait()
        return _DISCONNECT

    async def send_guarded(self, message: Message) -> None:
        """Pass the response on while the client is there; drop it once it has left."""
        self.started = True
        is_last = message["type"] == "http.response.body" and not message.get("more_body", False)
        if is_last:
            self.sending_last = True
        if message["type"] == "http.response.body" and (chunk := message.get("body")):
            self.last_chunk = chunk
        if not self.client_gone:
            self.bytes_sent += len(message.get("body", b""))
            await self.send(message)
        if is_last:
            self.finished.set()

    async def watch_for_disconnect(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass
        # uvicorn also reports a disconnect once the response is complete; that is no departure.
        if not self.sending_last:
            self.client_gone = True
            self.state.outcome = Outcome.CLIENT_LEFT
            self.state.event = Event.LATE_DISCONNECT
            detail = f"{self.bytes_sent} response bytes sent"
            _warn(_LATE_DISCONNECT, self.scope, self.state, detail)


class ListenerCall:
    """One stream that lasts until its client leaves, or until a shutdown ends it.

    Its client's departure reaches the SDK at once (hiding it would keep the stream's task
    alive forever). A graceful shutdown ends it once no request is in flight, as if its client
    had left, and a stream the SDK stops mid-way is closed properly.
    """

    def __init__(
        self, guard: DisconnectGuard, scope: Scope, body: bytes | None, receive: Receive, send: Send
    ) -> None:
        self.app = guard.app
        self.ends = guard.listeners_end()
        self.scope = scope
        self.body = body  # None for a GET: nothing to replay
        self.client_receive = receive
        self.client_send = send
        self.started = False
        self.finished = False

    async def run(self) -> None:
        await self.app(self.scope, self.receive, self.send)
        if self.started and not self.finished:
            # Stopped by the SDK mid-stream (at shutdown, say): close the stream properly rather
            # than leave uvicorn to report an incomplete response as an error.
            await self.client_send({"type": "http.response.body", "body": b"", "more_body": False})

    async def receive(self) -> Message:
        """The body once, if there is one; then the client's next message, or a disconnect
        once the shutdown ends the listeners."""
        if self.body is not None:
            body, self.body = self.body, None
            return {"type": "http.request", "body": body, "more_body": False}
        message = _DISCONNECT

        async def client_event() -> None:
            nonlocal message
            message = await self.client_receive()
            task_group.cancel_scope.cancel()

        async def shutdown() -> None:
            await self.ends.wait()
            task_group.cancel_scope.cancel()

        async with anyio.create_task_group() as task_group:
            task_group.start_soon(client_event)
            task_group.start_soon(shutdown)
        return message

    async def send(self, message: Message) -> None:
        self.started = True
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            self.finished = True
        await self.client_send(message)


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


async def _answer(rejected: RejectedRequest, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a request, read in full, with the JSON-RPC error ``rejected`` carries."""
    response = Response(rejected.response, rejected.status, media_type="application/json")
    await response(scope, receive, send)


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
