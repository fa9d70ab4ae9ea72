"""The MCP server span of every request, which the 1.x SDK does not make and 2.x does.

One SERVER span per request a handler serves, as the MCP semantic conventions of OpenTelemetry
describe it and as 2.x's ``OpenTelemetryMiddleware`` makes it, attribute for attribute, so a
trace reads the same on both lines: named ``{mcp.method.name} {target}`` (the tool or prompt),
with ``mcp.method.name``, ``mcp.protocol.version``, ``jsonrpc.request.id``,
``gen_ai.operation.name`` and ``gen_ai.tool.name`` (a tool) or ``gen_ai.prompt.name`` (a
prompt); a failure sets ``error.type`` (the JSON-RPC code, ``tool_error``, or the exception's
type) and the ERROR status. Its parent is the trace context in ``params._meta`` when the
message carries one, else the request's current context (the caller's ``traceparent``,
``http/trace_context.py``). The text of errors goes into the span as 2.x puts it there; the
exporter takes it out unless ``TRACE_EXCEPTION_TEXT`` is set (``otlp.py``).

Wraps the handlers once the server has them all (``sdk.create_http_app``, ``sdk.run_stdio``),
and only when traces are on (``tracing.py``). ``initialize``, which 1.x answers in its session
rather than through a handler, has no span on this line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from mcp import types
from mcp.server.lowlevel.server import Server as LowLevelServer
from mcp.server.lowlevel.server import request_ctx
from mcp.shared.exceptions import McpError
from opentelemetry.context import Context
from opentelemetry.propagate import extract
from opentelemetry.trace import SpanKind, StatusCode, get_current_span, get_tracer

Handler = Callable[[Any], Awaitable[types.ServerResult]]

# The methods whose span is named after what they ask for: the tool or the prompt.
_NAMED: Final = frozenset({"tools/call", "prompts/get"})
_PROTOCOL_VERSION_HEADER: Final = "mcp-protocol-version"
_TRACED: Final = "_traced_by_the_template"
_tracer = get_tracer(__name__)


def trace_requests(server: LowLevelServer[Any, Any]) -> None:
    """Give every request handler ``server`` has now a server span of its own; once."""
    for request_type, handler in list(server.request_handlers.items()):
        if not getattr(handler, _TRACED, False):
            server.request_handlers[request_type] = traced(handler)


def traced(handler: Handler) -> Handler:
    """``handler``, serving each request inside its MCP server span."""

    async def serve(request: Any) -> types.ServerResult:
        if request is None:  # 1.x's own call, to list its tools before it calls one: no request
            return await handler(request)
        method: str = request.method
        params = request.params
        name = getattr(params, "name", None)
        target = name if isinstance(name, str) and method in _NAMED else None
        attributes = {"mcp.method.name": method, **_request_attributes()}
        if method == "tools/call":
            attributes["gen_ai.operation.name"] = "execute_tool"
            if target is not None:
                attributes["gen_ai.tool.name"] = target
        elif method == "prompts/get" and target is not None:
            attributes["gen_ai.prompt.name"] = target
        with _tracer.start_as_current_span(
            f"{method} {target}" if target else method,
            kind=SpanKind.SERVER,
            attributes=attributes,
            context=_meta_context(params),
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                result = await handler(request)
            except McpError as exc:
                code = str(exc.error.code)
                span.set_attributes({"error.type": code, "rpc.response.status_code": code})
                span.set_status(StatusCode.ERROR, exc.error.message)
                raise
            except Exception as exc:
                span.set_attribute("error.type", type(exc).__qualname__)
                span.record_exception(exc)
                span.set_status(StatusCode.ERROR, str(exc))
                raise
            if isinstance(result.root, types.CallToolResult) and result.root.isError:
                span.set_attribute("error.type", "tool_error")
                span.set_status(StatusCode.ERROR)
            return result

    setattr(serve, _TRACED, True)
    return serve


def _request_attributes() -> dict[str, str]:
    """The request's id and protocol version, from the context 1.x serves it in."""
    try:
        context = request_ctx.get()
    except LookupError:
        return {}
    attributes = {}
    if context.request_id is not None:
        attributes["jsonrpc.request.id"] = str(context.request_id)
    version = None
    http_request = context.request
    if http_request is not None:
        version = http_request.headers.get(_PROTOCOL_VERSION_HEADER)
    elif context.session.client_params is not None:
        version = str(context.session.client_params.protocolVersion)
    if version:
        attributes["mcp.protocol.version"] = version
    return attributes


def _meta_context(params: Any) -> Context | None:
    """The trace context ``params._meta`` carries, or None to keep the current one (as 2.x)."""
    meta = getattr(params, "meta", None)
    if meta is None:
        return None
    try:
        context = extract(meta.model_dump(exclude_none=True))
    except (ValueError, TypeError):
        return None
    return context if get_current_span(context).get_span_context().is_valid else None
