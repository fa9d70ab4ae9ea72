"""The only module that knows which line of the MCP Python SDK this service runs on: 1.x.

1.x (FastMCP) is in maintenance and speaks the protocol revisions up to 2025-11-25; it does not
speak MCP 2026-07-28. The template bakes a 2.x twin of this module; moving lines means swapping
this module, ``tests/support/sdk.py`` and the ``mcp`` pin in ``pyproject.toml``, nothing else.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from importlib.metadata import version
from typing import Any, TypeAlias, TypeVar

from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import UrlElicitationRequiredError
from starlette.applications import Starlette

from .. import SERVER_NAME, __version__
from . import tool_errors
from .auth import AuthSettings, server_auth
from .guard import HeaderCheck
from .security import transport_security
from .settings import ServiceSettings

__all__ = [
    "PER_REQUEST_LOGGERS",
    "SDK_LINE",
    "SDK_VERSION",
    "Server",
    "ToolContext",
    "ToolError",
    "check_protocol_headers",
    "create_http_app",
    "has_tool",
    "new_server",
    "prepare_tool",
    "run_stdio",
    "session_manager",
]

SDK_LINE = "1.x"
SDK_VERSION = version("mcp")
# 1.x serves no handshake-free revision (MCP 2026-07-28): no routing headers to check.
check_protocol_headers: HeaderCheck | None = None

# The SDK's loggers that write a line per request at INFO ("Terminating session: None",
# "Processing request of type ..."): ``logs.py`` keeps them quiet below DEBUG.
PER_REQUEST_LOGGERS = ("mcp.server.streamable_http", "mcp.server.lowlevel.server")

Server: TypeAlias = FastMCP[Any]
ToolContext: TypeAlias = Context[Any, Any, Any]
Tool = TypeVar("Tool", bound=Callable[..., Any])


def new_server(settings: AuthSettings) -> Server:
    """The SDK's high-level server, in stateless mode so any replica can answer any request."""
    with warnings.catch_warnings():
        # FastMCP's own settings in some 1.x releases (1.26 among them) leave ``lifespan`` a
        # forward reference, and recent pydantic-settings warn about it on every start; that
        # field is never read from the environment, so the warning would only be log noise.
        warnings.filterwarnings("ignore", message="Field 'lifespan' has an incomplete definition")
        server = FastMCP(
            SERVER_NAME,
            stateless_http=True,
            json_response=settings.json_response,
            transport_security=transport_security(settings),
            **server_auth(settings),
        )
    # FastMCP takes no version. Left unset, the SDK reports its own version as the service's
    # and looks it up in the installed packages' metadata on every stateless request: a third
    # of the CPU time per request, measured (the template README's benchmark).
    server._mcp_server.version = __version__
    return server


def create_http_app(server: Server, settings: ServiceSettings) -> Starlette:
    """The SDK's streamable-HTTP app, serving ``/mcp``; its lifespan is not run when mounted."""
    return server.streamable_http_app()


def has_tool(server: Server, name: str) -> bool:
    """Whether ``server`` has a tool called ``name`` now, however it was added."""
    return server._tool_manager.get_tool(name) is not None


def session_manager(server: Server) -> StreamableHTTPSessionManager:
    """The manager whose ``run()`` must be entered before ``/mcp`` can answer."""
    return server.session_manager


async def run_stdio(server: Server) -> None:
    """Serve one client over stdin/stdout until it closes stdin."""
    await server.run_stdio_async()


def prepare_tool(tool: Tool) -> Tool:
    """The tool as registered: its errors answered and logged by intent (``tool_errors.py``).

    1.x by itself sends any exception's text to the client and logs nothing; it wraps our
    ``ToolError`` once more, as ``Error executing tool <name>: <message>``, as 2.x does.
    """
    return tool_errors.by_intent(tool, ToolError, (UrlElicitationRequiredError,))
