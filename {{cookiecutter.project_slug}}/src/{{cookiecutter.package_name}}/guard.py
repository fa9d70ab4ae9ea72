"""A disconnect-safe request path in front of the MCP SDK's streamable-HTTP app.

Why it exists: when a client disconnects while the SDK is still reading a request body, the
SDK logs ERROR tracebacks and, on some versions, crashes the stateless session with
``ClosedResourceError`` (python-sdk issue 2064). A client hanging up is not a server error.

What it does, for POST requests only:

* reads the whole body before the SDK sees the request, with a size limit (413, without
  reading the rest) and a deadline (408);
* if the client leaves before its body is complete, logs one WARNING and never calls the SDK;
* once the body is read, gives the SDK a ``receive`` that hides a later disconnect until the
  SDK's response is finished, so its error path never writes to a closed stream. A client that
  leaves mid-response gets one WARNING; the rest of the response is dropped and the tool runs
  to completion, so it never stops half-way through its side effects;
* requests that by design stream until the client leaves (``subscriptions/listen``) see the
  real disconnect at once: hiding it would keep their task alive forever and block shutdown.

Everything else (other methods, lifespan and websocket scopes) passes through untouched, and
exceptions from the SDK or a tool propagate unchanged: this is not a filter that hides errors.
"""

from __future__ import annotations

import json
import logging
import math
from typing import Final

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

# JSON-RPC methods whose response stream ends only when the client leaves.
LONG_LIVED_METHODS: Final = frozenset({"subscriptions/listen"})
_LONG_LIVED_MARKERS: Final = tuple(method.encode() for method in LONG_LIVED_METHODS)

_DISCONNECT: Final[Message] = {"type": "http.disconnect"}


class DisconnectGuard:
    """Pure ASGI middleware; wrap the SDK's app with it (see ``app.create_app``)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, body_timeout: float) -> None:
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
        self._too_large = _error_response(
            413, f"Request body too large: the limit is {max_body_bytes} bytes"
        )
        self._timed_out = _error_response(
            408, f"Request body not received within {body_timeout:g} seconds"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return

        declared = _declared_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            _log_rejected(scope, "body too large", f"{declared} bytes declared")
            await _send_response(send, self._too_large)
            return

        chunks: list[bytes] = []
        received = 0
        with anyio.move_on_after(self.body_timeout) as deadline:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    _log_early_disconnect(scope, received, declared)
                    return
                chunk: bytes = message.get("body", b"")
                received += len(chunk)
                if received > self.max_body_bytes:
                    _log_rejected(scope, "body too large", f"over {received} bytes streamed")
                    await _send_response(send, self._too_large)
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if deadline.cancelled_caught:
            _log_rejected(scope, "body timed out", f"{received} of {_of(declared)} bytes received")
            await _send_response(send, self._timed_out)
            return

        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        if any(marker in body for marker in _LONG_LIVED_MARKERS) and _is_long_lived(body):
            await self.app(scope, _replay(body, receive), send)
            return
        await self._call_shielded(scope, body, receive, send)

    async def _call_shielded(self, scope: Scope, body: bytes, receive: Receive, send: Send) -> None:
        """Run the SDK with the body in hand, hiding a disconnect until its response is done."""
        body_delivered = False
        final_body_sending = False
        client_gone = False
        response_done = anyio.Event()
        bytes_sent = 0

        async def replay_receive() -> Message:
            nonlocal body_delivered
            if not body_delivered:
                body_delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await response_done.wait()
            return _DISCONNECT

        async def guarded_send(message: Message) -> None:
            nonlocal final_body_sending, bytes_sent
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
                _log_late_disconnect(scope, body, bytes_sent)

        failure: Exception | None = None
        async with anyio.create_task_group() as task_group:
            task_group.start_soon(watch_for_disconnect)
            try:
                await self.app(scope, replay_receive, guarded_send)
            except Exception as exc:  # re-raised below, unchanged, outside the task group
                failure = exc
            task_group.cancel_scope.cancel()
        if failure is not None:
            raise failure


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            # The server (uvicorn/h11) has already refused a Content-Length that is not a number.
            return int(value) if value.isdigit() else None
    return None


def _is_long_lived(body: bytes) -> bool:
    try:
        message = json.loads(body)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("method") in LONG_LIVED_METHODS


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that returns the buffered body, then the client's real events."""
    delivered = False

    async def replay_receive() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay_receive


def _error_response(status: int, message: str) -> tuple[int, bytes]:
    body = {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": message}}
    return status, json.dumps(body).encode()


async def _send_response(send: Send, response: tuple[int, bytes]) -> None:
    status, body = response
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        # The rest of the request body was not read, so the connection cannot be reused.
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _of(declared: int | None) -> str:
    return "unknown (chunked)" if declared is None else str(declared)


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else "unknown"


def _log_early_disconnect(scope: Scope, received: int, declared: int | None) -> None:
    logger.warning(
        "client disconnected before its request body was complete, request discarded: "
        "%s %s, %d of %s bytes received, client %s",
        scope["method"],
        scope["path"],
        received,
        _of(declared),
        _client(scope),
    )


def _log_late_disconnect(scope: Scope, body: bytes, bytes_sent: int) -> None:
    logger.warning(
        "client disconnected before the response was complete, the rest is dropped and the "
        "request runs to completion: %s %s (%s), %d response bytes sent, client %s",
        scope["method"],
        scope["path"],
        _describe_rpc(body),
        bytes_sent,
        _client(scope),
    )


def _log_rejected(scope: Scope, reason: str, detail: str) -> None:
    logger.warning(
        "request rejected, %s: %s %s, %s, client %s",
        reason,
        scope["method"],
        scope["path"],
        detail,
        _client(scope),
    )


def _describe_rpc(body: bytes) -> str:
    """``method id=...`` of a JSON-RPC request, for log lines; only called on the rare paths."""
    try:
        message = json.loads(body)
    except ValueError:
        return "body is not JSON"
    if not isinstance(message, dict):
        return "body is not a JSON-RPC request"
    return f"{message.get('method')} id={message.get('id')}"
