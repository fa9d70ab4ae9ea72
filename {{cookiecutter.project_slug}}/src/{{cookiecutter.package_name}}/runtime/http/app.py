"""The HTTP service around the SDK: ``/mcp`` behind the guard and limits, ``/healthz``,
``/metrics``, and the access line in front of them all.

``build_http_app`` is what the team's ``app.create_app`` calls; what each layer does under
faults is in ``docs/faults.md``, what it logs and counts in
``docs/operating.md``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ..auth import SDK_CHECKS_TOKENS, AuthSettings, protect
from ..hosts import exposure_warning
from ..per_process import BindPerRequest
from ..registry import register_extras
from ..sdk import (
    SdkApp,
    Server,
    check_request,
    create_http_app,
    has_tool,
)
from ..settings import ENV_PREFIX, SettingsError
from ..tracing import active as tracing_active
from ..tracing import metrics_active
from .access import AccessLog
from .guard import DisconnectGuard
from .limits import HeaderLimit, RequestLimit
from .metrics import MCP_METHODS, Metrics

logger = logging.getLogger(__name__)


async def healthz(request: Request) -> JSONResponse:
    """Liveness for load balancers; answers without touching the MCP machinery."""
    return JSONResponse({"status": "ok"})


class McpPath:
    """Pure ASGI middleware: requests for ``/mcp`` go straight to ``endpoint``, the rest on.

    ``/mcp`` carries nearly all the traffic; sending it past the router (``/healthz``,
    ``/metrics`` and the SDK's other routes, for everything else) saves the router's work on
    every request. The path is matched below the app's mount point, as Starlette's router does.
    """

    def __init__(self, app: ASGIApp, *, endpoint: ASGIApp, path: str = "/mcp") -> None:
        self.app = app
        self.endpoint = endpoint
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            root_path: str = scope.get("root_path", "")
            if root_path and path.startswith(root_path):
                path = path[len(root_path) :]
            if path == self.path:
                await self.endpoint(scope, receive, send)
                return
        await self.app(scope, receive, send)


def build_http_app(server: Server, settings: AuthSettings) -> Starlette:
    """Serve ``server`` over HTTP. Its lifespan can run once.

    The lifespan opens what the server's tools share (``server.shared``) before the first
    request and closes it after the last. The MCP server is kept on ``app.state.mcp_server``
    for code that needs to reach it, and the disconnect guard on ``app.state.guard`` for a
    graceful shutdown to drain.
    """
    if settings.transport != "http":
        # Over stdio the auth settings may be unset: never build an HTTP app from them.
        raise SettingsError(f"{ENV_PREFIX}TRANSPORT={settings.transport!r}: this app serves HTTP")
    if warning := exposure_warning(settings):
        logger.warning(warning)
    register_extras(server)
    # JSON_RESPONSE: true answers every POST with plain JSON, false as an SSE stream, and auto
    # (the default) has the guard send each to the SDK app of the kind it needs: a stream only
    # for a client that can hear from the server before its answer. A stream costs the SDK a
    # task group and memory streams more per request: JSON is the cheaper answer.
    choice = settings.json_response
    streaming = None if choice is True else create_http_app(server, settings, json_response=False)
    plain = None if choice is False else create_http_app(server, settings, json_response=True)
    sdk_apps = [sdk_app for sdk_app in (streaming, plain) if sdk_app is not None]
    main = sdk_apps[0]  # GET, listeners, and the SDK's other routes
    guarded = DisconnectGuard(
        _endpoint(main),
        max_body_bytes=settings.max_body_bytes,
        body_timeout=settings.body_timeout,
        check_request=check_request,
        json_app=_endpoint(plain) if plain is not None and streaming is not None else None,
    )
    bound = BindPerRequest(guarded) if server.shared is not None else None

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if server.shared is not None and bound is not None:
                bound.bind = await stack.enter_async_context(server.shared.opened(settings))
            for sdk_app in sdk_apps:
                await stack.enter_async_context(sdk_app.manager.run())
            yield

    metrics = Metrics(lambda name: has_tool(server, name)) if settings.metrics else None
    record = None
    if metrics_active():
        # Only then: its imports and its work are for OTLP metrics (tracing.py).
        from ..otlp_metrics import OperationDuration

        record = OperationDuration(lambda name: has_tool(server, name), MCP_METHODS)
    # /healthz and /metrics answer without MCP authentication (docs/security.md).
    routes = [Route("/healthz", healthz, methods=["GET"])]
    if metrics is not None:
        routes.append(Route("/metrics", metrics.endpoint, methods=["GET"]))
    middleware = [
        # First, so that every request has its id and its access line, refusals included.
        Middleware(AccessLog, metrics=metrics, record=record),
        Middleware(RequestLimit, max_requests=settings.limit_concurrency),
        Middleware(HeaderLimit, max_bytes=settings.max_header_bytes),
        # Authentication, if any, comes before the guard reads a body.
        Middleware(McpPath, endpoint=protect(bound or guarded, settings)),
    ]
    if tracing_active():
        # Only then: its imports and its work are for traces (tracing.py).
        from .trace_context import TraceContext

        middleware.insert(1, Middleware(TraceContext))
    app = Starlette(
        routes=[
            *routes,
            # The SDK's other routes, if any (they take no JSON-RPC: no guard).
            Mount("/", app=protect(main.app, settings)),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.mcp_server = server
    app.state.guard = guarded
    app.state.settings = settings
    app.state.metrics = metrics
    return app


def _endpoint(sdk_app: SdkApp) -> ASGIApp:
    """What answers ``/mcp`` for ``sdk_app``: its session manager alone, past a router that adds
    nothing here, unless the SDK checks tokens itself, which its app's middleware does."""
    return sdk_app.app if SDK_CHECKS_TOKENS else sdk_app.manager.handle_request
