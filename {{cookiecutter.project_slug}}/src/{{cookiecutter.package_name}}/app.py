"""The service: the team's tools on an SDK server, served over HTTP by the template's runtime.

The team's wiring: what the server is built from. Tools reach the settings and what the
process opens once through ``shared()`` (``shared.py``).

``service`` is what every entry point hands to the runtime (the template's ``runtime/``), and
``app`` is what uvicorn serves, as
``uvicorn {{ cookiecutter.package_name }}.app:app``;
keep both, and ``create_app``, which tests and a larger app call.

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

from .runtime.sdk import Server, new_server
from .runtime.serving.service import Service
from .settings import Settings, read_settings
from .shared import shared
from .tools import register_tools


def create_server(settings: Settings) -> Server:
    """The SDK's server with the service's tools, resources and prompts, and what they share."""
    server = new_server(settings, shared=shared)
    register_tools(server)
    return server


service = Service(read_settings=read_settings, create_server=create_server)
"""The service as every entry point hands it to the runtime: the command (``__main__.py``),
``app`` below, the workers and stdio."""


def create_app(settings: Settings | None = None) -> Starlette:
    """The HTTP service. Each call makes a new MCP server; its lifespan can run once."""
    return service.create_app(settings)


app = service.asgi()
"""What uvicorn serves (``uvicorn <package>.app:app``): the service, built from the environment
when uvicorn starts it."""
