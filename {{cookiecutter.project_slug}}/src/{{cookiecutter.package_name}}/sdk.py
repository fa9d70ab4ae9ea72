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

{% if cookiecutter.mcp_sdk == "1.x" %}
import functools
import inspect
import logging
{% endif %}
from collections.abc import Callable
from importlib.metadata import version
from typing import Any, TypeAlias

{% if cookiecutter.mcp_sdk == "2.x" %}
from mcp.server.mcpserver import Context, MCPServer
{% else %}
from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError
{% endif %}
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
{% if cookiecutter.mcp_sdk == "2.x" %}
from mcp.types.version import MODERN_PROTOCOL_VERSIONS as SDK_MODERN_VERSIONS
{% endif %}
from starlette.applications import Starlette

{% if cookiecutter.mcp_sdk == "2.x" %}
from . import SERVER_NAME, __version__
{% else %}
from . import SERVER_NAME
{% endif %}
{% if cookiecutter.auth == "oauth" %}
from .auth_oauth import JWTVerifier, auth_settings
{% endif %}
from .security import transport_security
from .settings import Settings

SDK_LINE = "{{ cookiecutter.mcp_sdk }}"
SDK_VERSION = version("mcp")
{% if cookiecutter.mcp_sdk == "2.x" %}
# The handshake-free revisions (MCP 2026-07-28) this line serves: the guard checks the
# protocol-version header of requests that declare one of them where the SDK does not.
MODERN_PROTOCOL_VERSIONS: tuple[str, ...] = tuple(SDK_MODERN_VERSIONS)
{% else %}
# 1.x serves no handshake-free revision (MCP 2026-07-28), so the guard checks no such headers.
MODERN_PROTOCOL_VERSIONS: tuple[str, ...] = ()
{% endif %}

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
{% if cookiecutter.auth == "oauth" %}
    if settings.transport == "stdio":  # the client started this process: no HTTP, no OAuth
        return MCPServer(name=SERVER_NAME, version=__version__)
    return MCPServer(
        name=SERVER_NAME,
        version=__version__,
        auth=auth_settings(settings),
        token_verifier=JWTVerifier(settings),
    )
{% else %}
    del settings
    return MCPServer(name=SERVER_NAME, version=__version__)
{% endif %}
{% else %}
{% if cookiecutter.auth == "oauth" %}
    if settings.transport == "stdio":  # the client started this process: no HTTP, no OAuth
        return FastMCP(SERVER_NAME)
{% endif %}
    return FastMCP(
        SERVER_NAME,
        stateless_http=True,
        json_response=settings.json_response,
        transport_security=transport_security(settings),
{% if cookiecutter.auth == "oauth" %}
        auth=auth_settings(settings),
        token_verifier=JWTVerifier(settings),
{% endif %}
    )
{% endif %}


def create_http_app(server: Server, settings: Settings) -> Starlette:
    """The SDK's streamable-HTTP app, serving ``/mcp``; its lifespan is not run when mounted."""
{% if cookiecutter.mcp_sdk == "2.x" %}
    return server.streamable_http_app(
        stateless_http=True,
        json_response=settings.json_response,
        max_request_body_size=settings.max_body_bytes,
        transport_security=transport_security(settings),
    )
{% else %}
    return server.streamable_http_app()
{% endif %}


def session_manager(server: Server) -> StreamableHTTPSessionManager:
    """The manager whose ``run()`` must be entered before ``/mcp`` can answer."""
    return server.session_manager


async def run_stdio(server: Server) -> None:
    """Serve one client over stdin/stdout until it closes stdin."""
    await server.run_stdio_async()
{% if cookiecutter.mcp_sdk == "2.x" %}


def add_tool(server: Server, tool: Callable[..., Any]) -> None:
    """Register ``tool``; the SDK logs an unexpected exception in it once, with its traceback."""
    server.add_tool(tool)
{% else %}


logger = logging.getLogger(__name__)


def add_tool(server: Server, tool: Callable[..., Any]) -> None:
    """Register ``tool``, logging an unexpected exception in it once, with its traceback.

    1.x turns such an exception into a tool error for the client and logs nothing, which would
    hide a server fault. A ``ToolError`` is an answer the tool chose, so it is not logged.
    """
    server.add_tool(_logging_unexpected_exceptions(tool))


def _logging_unexpected_exceptions(tool: Callable[..., Any]) -> Callable[..., Any]:
    # functools.wraps keeps the signature and type hints the SDK reads the tool's schema from.
    if inspect.iscoroutinefunction(tool):

        @functools.wraps(tool)
        async def logged_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await tool(*args, **kwargs)
            except ToolError:
                raise
            except Exception:
                logger.exception("Tool %r raised an unexpected exception", tool.__name__)
                raise

        return logged_async

    @functools.wraps(tool)
    def logged(*args: Any, **kwargs: Any) -> Any:
        try:
            return tool(*args, **kwargs)
        except ToolError:
            raise
        except Exception:
            logger.exception("Tool %r raised an unexpected exception", tool.__name__)
            raise

    return logged
{% endif %}
