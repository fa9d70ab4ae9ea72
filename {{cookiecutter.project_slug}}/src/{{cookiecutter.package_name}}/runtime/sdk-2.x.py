"""The only module that knows which line of the MCP Python SDK this service runs on: 2.x.

2.x serves MCP 2026-07-28 (stateless, no handshake) and every earlier revision from one
endpoint. The template bakes a 1.x twin of this module for teams on the maintenance line;
moving lines means swapping this module, ``tests/support/sdk.py`` and the ``mcp`` pin in
``pyproject.toml``, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from typing import Any, TypeAlias, TypeVar

from mcp.server.mcpserver import (
    AcceptedElicitation,
    CancelledElicitation,
    Context,
    DeclinedElicitation,
    Elicit,
    ElicitationResult,
    MCPServer,
    RequestStateSecurity,
    Resolve,
)
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.shared.exceptions import MCPError
from starlette.applications import Starlette

from .. import SERVER_NAME, __version__
from . import tool_errors
from .auth import AuthSettings, server_auth
from .guard import HeaderCheck
from .protocol_headers import protocol_header_mismatch
from .security import transport_security
from .settings import ServiceSettings

__all__ = [
    "PER_REQUEST_LOGGERS",
    "SDK_LINE",
    "SDK_VERSION",
    "AcceptedElicitation",
    "CancelledElicitation",
    "DeclinedElicitation",
    "Elicit",
    "ElicitationResult",
    "Resolve",
    "Server",
    "ToolContext",
    "ToolError",
    "check_protocol_headers",
    "create_http_app",
    "has_tool",
    "new_server",
    "prepare_tool",
    "request_state_security",
    "run_stdio",
    "session_manager",
]

SDK_LINE = "2.x"
SDK_VERSION = version("mcp")
# This line serves MCP 2026-07-28: the guard checks the protocol-version header against the
# body where the SDK does not.
check_protocol_headers: HeaderCheck | None = protocol_header_mismatch

# The SDK's loggers that write a line per request at INFO ("Terminating session: None", "Tool
# 'x' failed: ..."): ``logs.py`` keeps them quiet below DEBUG.
PER_REQUEST_LOGGERS = (
    "mcp.server.streamable_http",
    "mcp.server.lowlevel.server",
    "mcp.server.mcpserver.server",
)

Server: TypeAlias = MCPServer[Any]
ToolContext: TypeAlias = Context[Any, Any]
Tool = TypeVar("Tool", bound=Callable[..., Any])


def new_server(settings: AuthSettings) -> Server:
    """The SDK's high-level server; ``create_http_app`` makes its HTTP app stateless."""
    return MCPServer(
        name=SERVER_NAME,
        version=__version__,
        request_state_security=request_state_security(settings),
        **server_auth(settings),
    )


def request_state_security(settings: ServiceSettings) -> RequestStateSecurity | None:
    """The keys that seal a call's state between its rounds, or None for the SDK's default.

    A tool that asks the client for input (``Resolve``/``Elicit``) answers a 2026-07-28 call
    with the questions and a sealed ``requestState``; the client sends the answers and that
    state back in a new request, which any process behind the port or the proxy may get. It
    can unseal the state only with the key that sealed it, so every process needs the same
    keys: ``REQUEST_STATE_KEYS`` (the first seals, every one unseals, for rotation). None keeps
    the SDK's key of this process's own, enough for one process (``--workers`` hands its
    workers one generated key through the settings).
    """
    keys = [key.get_secret_value() for key in settings.request_state_keys]
    return RequestStateSecurity(keys=keys) if keys else None


def create_http_app(server: Server, settings: ServiceSettings) -> Starlette:
    """The SDK's streamable-HTTP app, serving ``/mcp``; its lifespan is not run when mounted."""
    return server.streamable_http_app(
        stateless_http=True,
        json_response=settings.json_response,
        max_request_body_size=settings.max_body_bytes,
        transport_security=transport_security(settings),
    )


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

    2.x logs its own lines about a tool's failures (``logs.py`` keeps them below the default
    level) and wraps our ``ToolError`` once more, as ``Error executing tool <name>: <message>``.
    """
    return tool_errors.by_intent(tool, ToolError, (MCPError,))
