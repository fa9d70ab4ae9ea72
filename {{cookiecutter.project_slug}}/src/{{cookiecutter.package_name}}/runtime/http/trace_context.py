"""The caller's trace context, from its HTTP headers, made current for the whole request.

Proxies, meshes and HTTP clients put W3C Trace Context in ``traceparent`` (and ``tracestate``,
``baggage``) headers. Made the request's current context, it is the parent of the MCP server
span (the SDK's on 2.x, ``server_spans.py``'s on 1.x), unless the message carries its own in
``params._meta``, which the MCP semantic conventions make the parent instead. Its trace id goes
on the request's state at once, so that even a request refused before the SDK names it in its
access line.

Only in the app when traces are on (``tracing.active()``): otherwise no request pays for it.
"""

from __future__ import annotations

from opentelemetry.context import attach, detach
from opentelemetry.propagate import extract
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import format_trace_id, get_current_span
from starlette.types import ASGIApp, Receive, Scope, Send

from ..requests import current

Headers = list[tuple[bytes, bytes]]


class AsgiHeaders(Getter[Headers]):
    """Reads a propagator's headers (lower-case names) from an ASGI scope's header list."""

    def get(self, carrier: Headers, key: str) -> list[str] | None:
        name = key.encode("latin-1")
        values = [value.decode("latin-1") for header, value in carrier if header == name]
        return values or None

    def keys(self, carrier: Headers) -> list[str]:
        return [header.decode("latin-1") for header, _ in carrier]


ASGI_HEADERS = AsgiHeaders()


class TraceContext:
    """Pure ASGI middleware, right behind the access line: the caller's trace context."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        context = extract(scope["headers"], getter=ASGI_HEADERS)
        caller = get_current_span(context).get_span_context()
        if caller.is_valid and (state := current.get()) is not None:
            state.trace_id = format_trace_id(caller.trace_id)
        token = attach(context)
        try:
            await self.app(scope, receive, send)
        finally:
            detach(token)
