"""The limits of what one process takes on: requests in flight (503) and header size (431).

uvicorn's own ``limit_concurrency`` counts open connections, so a client that opens many and
sends nothing locks every other client out. Counting requests instead makes an idle or stalled
connection cost nothing here (``connections.py`` closes those), while a burst of real work
beyond what the process should take on gets a fast, clear refusal it can retry.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ..jsonrpc import error_body
from ..requests import Event, refused

# JSON-RPC's range for server errors; the HTTP status says the rest.
SERVER_BUSY = -32000


class RequestLimit:
    """Pure ASGI middleware: at most ``max_requests`` HTTP requests in flight at once."""

    def __init__(self, app: ASGIApp, *, max_requests: int) -> None:
        if max_requests < 1:
            raise ValueError(f"max_requests must be at least 1, got {max_requests}")
        self.app = app
        self.max_requests = max_requests
        self.in_flight = 0
        # Built once: the refusal is the same every time.
        self._busy = Response(
            error_body(
                SERVER_BUSY,
                f"Service Unavailable: {max_requests} requests in flight; retry shortly",
            ),
            503,
            headers={"retry-after": "1"},
            media_type="application/json",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_requests:
            refused(Event.OVER_LIMIT)
            await self._busy(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class HeaderLimit:
    """431 for HTTP requests whose headers exceed ``max_bytes``, before anything reads them.

    uvicorn's h11 limit only bounds what it buffers of a head that has not fully arrived; a
    head that arrives in one read (up to 256 KiB) gets through it. Counting here makes the
    limit exact for every request, whatever the server.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        # Built once; the connection is closed, as the rest of the request was not read.
        self._too_large = PlainTextResponse(
            f"Request headers too large: the limit is {max_bytes} bytes",
            431,
            headers={"connection": "close"},
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            size = 4 * len(headers)  # ": " and CRLF; a plain loop, as this runs per request
            for name, value in headers:
                size += len(name) + len(value)
            if size > self.max_bytes:
                refused(Event.HEADERS_TOO_LARGE)
                await self._too_large(scope, receive, send)
                return
        await self.app(scope, receive, send)
