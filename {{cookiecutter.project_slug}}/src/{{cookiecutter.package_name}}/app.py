"""The ASGI application: ``/mcp`` behind the disconnect guard, ``/healthz``, and the lifespan.

The module-level ``app``, built from the environment on first use, is what
``uvicorn {{ cookiecutter.package_name }}.app:app`` serves.

To serve the MCP app inside a larger Starlette or FastAPI app, mount it and hand its lifespan to
the host, which is the one line Starlette needs (it does not run a mounted app's lifespan, and
without it every request fails with "Task group is not initialized")::

    mcp_app = create_app()
    host = Starlette(
        routes=[Mount("/tools", app=mcp_app)],
        lifespan=mcp_app.router.lifespan_context,
    )
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

{% if cookiecutter.auth == "bearer" %}
from .auth_bearer import BearerAuth
{% endif %}
from .guard import DisconnectGuard
from .limits import RequestLimit
from .logs import configure_logging
from .sdk import (
    MODERN_PROTOCOL_VERSIONS,
    create_http_app,
    create_server,
    session_manager,
)
from .security import HeaderLimit, exposure_warning
from .settings import ENV_PREFIX, Settings, SettingsError, load_settings
from .tools import register_tools

logger = logging.getLogger(__name__)


async def healthz(request: Request) -> JSONResponse:
    """Liveness for load balancers; answers without touching the MCP machinery."""
    return JSONResponse({"status": "ok"})


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the service. Each call makes a new MCP server; its lifespan can run once.

    The MCP server is kept on ``app.state.mcp_server`` for code that needs to reach it, and the
    disconnect guard on ``app.state.guard`` for a graceful shutdown to drain.
    """
    settings = settings or load_settings()
    if settings.transport != "http":
        # Over stdio the auth settings may be unset: never build an HTTP app from them.
        raise SettingsError(f"{ENV_PREFIX}TRANSPORT={settings.transport!r}: this app serves HTTP")
    if warning := exposure_warning(settings):
        logger.warning(warning)
    server = create_server(settings)
    register_tools(server)
    mcp_app = create_http_app(server, settings)
    manager = session_manager(server)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with manager.run():
            yield

    guarded = DisconnectGuard(
        mcp_app,
        max_body_bytes=settings.max_body_bytes,
        body_timeout=settings.body_timeout,
        modern_protocols=MODERN_PROTOCOL_VERSIONS,
    )
{% if cookiecutter.auth == "bearer" %}
    # Everything but /healthz needs a token, checked before the guard reads a body.
    authenticated = BearerAuth(guarded, tokens=settings.auth_tokens)
    app = Starlette(
        routes=[Route("/healthz", healthz, methods=["GET"]), Mount("/", app=authenticated)],
{% else %}
    app = Starlette(
        routes=[Route("/healthz", healthz, methods=["GET"]), Mount("/", app=guarded)],
{% endif %}
        middleware=[
            Middleware(RequestLimit, max_requests=settings.limit_concurrency),
            Middleware(HeaderLimit, max_bytes=settings.max_header_bytes),
        ],
        lifespan=lifespan,
    )
    app.state.mcp_server = server
    app.state.guard = guarded
    app.state.settings = settings
    return app


app: Starlette
"""The service built from the environment: what uvicorn serves as ``app``."""


def __getattr__(name: str) -> Starlette:
    # Built on first access, not on import, so that importing create_app reads no environment.
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        built = create_app(settings)
    except SettingsError as exc:
        # One clear line instead of a traceback, however the server is started.
        raise SystemExit(f"error: {exc}") from None
    globals()["app"] = built
    return built
