{% if cookiecutter.mcp_sdk == "2.x" %}
"""The only module that knows which line of the MCP Python SDK this service runs on: 2.x.

2.x serves MCP 2026-07-28 (stateless, no handshake) and every earlier revision from one
endpoint. Moving to another SDK line means changing this module, the client calls in
``tests/client.py`` and the ``mcp`` pin in ``pyproject.toml``; nothing else.
"""
{% else %}
"""The only module that knows which line of the MCP Python SDK this service runs on: 1.x.

1.x (FastMCP) is in maintenance and speaks the protocol revisions up to 2025-11-25; it does not
speak MCP 2026-07-28. Moving to another SDK line means changing this module, the client calls
in ``tests/client.py`` and the ``mcp`` pin in ``pyproject.toml``; nothing else.
"""
{% endif %}

from __future__ import annotations

from importlib.metadata import version
from typing import Any, TypeAlias

{% if cookiecutter.mcp_sdk == "2.x" %}
from mcp.server.mcpserver import Context, MCPServer
{% else %}
from mcp.server.fastmcp import Context, FastMCP
{% endif %}
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.applications import Starlette

{% if cookiecutter.mcp_sdk == "2.x" %}
from . import SERVER_NAME, __version__
{% else %}
from . import SERVER_NAME
{% endif %}
from .settings import Settings

SDK_LINE = "{{ cookiecutter.mcp_sdk }}"
SDK_VERSION = version("mcp")

{% if cookiecutter.mcp_sdk == "2.x" %}
Server: TypeAlias = MCPServer[Any]
ToolContext: TypeAlias = Context[Any, Any]
{% else %}
Server: TypeAlias = FastMCP[Any]
ToolContext: TypeAlias = Context[Any, Any, Any]
{% endif %}


def create_server(settings: Settings) -> Server:
    """The SDK's high-level server, in stateless mode so any replica can answer any request."""
{% if cookiecutter.mcp_sdk == "2.x" %}
    # 2.x takes the transport options (stateless, JSON responses) in create_http_app.
    del settings
    return MCPServer(name=SERVER_NAME, version=__version__)
{% else %}
    return FastMCP(
        SERVER_NAME,
        stateless_http=True,
        json_response=settings.json_response,
        host=settings.host,
    )
{% endif %}


def create_http_app(server: Server, settings: Settings) -> Starlette:
    """The SDK's streamable-HTTP app, serving ``/mcp``; its lifespan is not run when mounted."""
{% if cookiecutter.mcp_sdk == "2.x" %}
    return server.streamable_http_app(
        stateless_http=True,
        json_response=settings.json_response,
        max_request_body_size=settings.max_body_bytes,
        host=settings.host,
    )
{% else %}
    return server.streamable_http_app()
{% endif %}


def session_manager(server: Server) -> StreamableHTTPSessionManager:
    """The manager whose ``run()`` must be entered before ``/mcp`` can answer."""
    return server.session_manager
