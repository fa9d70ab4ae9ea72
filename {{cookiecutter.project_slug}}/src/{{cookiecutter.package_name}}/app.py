"""The service: the team's tools on an SDK server, served over HTTP by the template's runtime.

The team's wiring: what the server is built from. Tools reach the settings and what the
process opens once through ``shared()`` (``shared.py``).

The module-level ``app``, built from the environment on first use, is what uvicorn serves:
``uvicorn {{ cookiecutter.package_name }}.app:app``.
The command line and stdio use ``create_app`` and ``create_server``; keep both.

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

from starlette.applications import Starlette

from .runtime.heap import freeze_startup_heap
from .runtime.http import build_http_app
from .runtime.logs import configure_logging
from .runtime.sdk import Server, new_server
from .settings import Settings, SettingsError, read_settings
from .shared import shared
from .tools import register_tools


def create_server(settings: Settings) -> Server:
    """The SDK's server with the service's tools, resources and prompts, and what they share."""
    server = new_server(settings, shared=shared)
    register_tools(server)
    return server


def create_app(settings: Settings | None = None) -> Starlette:
    """The HTTP service. Each call makes a new MCP server; its lifespan can run once."""
    settings = settings or read_settings()
    return build_http_app(create_server(settings), settings)


app: Starlette
"""The service built from the environment: what uvicorn serves as ``app``."""


def __getattr__(name: str) -> Starlette:
    # Built on first access, not on import, so that importing create_app reads no environment.
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        settings = read_settings()
        configure_logging(settings.log_level, settings.log_format)
        built = create_app(settings)
        freeze_startup_heap()
    except SettingsError as exc:
        # One clear line instead of a traceback, however the server is started.
        raise SystemExit(f"error: {exc}") from None
    globals()["app"] = built
    return built
