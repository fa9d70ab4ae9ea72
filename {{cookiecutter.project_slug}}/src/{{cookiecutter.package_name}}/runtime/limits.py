"""A limit on the HTTP requests in flight: 503 with a JSON-RPC error beyond it.

uvicorn's own ``limit_concurrency`` counts open connections, so a client that opens many and
sends nothing locks every other client out. Counting requests instead makes an idle or stalled
connection cost nothing here (``connections.py`` closes those), while a burst of real work
beyond what the process should take on gets a fast, clear refusal it can retry.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .jsonrpc import error_body
from .requests import OVER_LIMIT, RequestState

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
            RequestState.refused(OVER_LIMIT)
            await self._busy(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
