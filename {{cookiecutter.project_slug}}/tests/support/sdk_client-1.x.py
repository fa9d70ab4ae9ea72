"""What the tests' clients do that depends on the SDK line: this bake runs on 1.x.

Together with the package's ``runtime/sdk.py``, this is what differs between the SDK lines.
1.x speaks the handshake-era revisions only (up to 2025-11-25).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TextIO

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import McpError
from mcp.shared.memory import create_connected_server_and_client_session
from mcp.types import CallToolResult, ReadResourceResult
from pydantic import AnyUrl

from {{ cookiecutter.package_name }}.runtime.sdk import Server

from . import credentials
from .processes import NEUTRAL_CWD

# What the SDK's client raises for a JSON-RPC error; its ``error`` has the code and message.
ProtocolError = McpError
# The code for a resource the server does not have, in the revision the in-memory client speaks:
# 2025-11-25, where it is -32002.
RESOURCE_NOT_FOUND_IN_MEMORY = -32002
Session = ClientSession
# The wire protocols a raw-HTTP test can speak to this server.
PROTOCOLS = ("2025-06-18",)
MODERN_PROTOCOL: str | None = None
# The first SDK release that sends progress notifications from a stateless server
# (mcp 1.26 to 1.28 drop them silently).
STATELESS_PROGRESS_SINCE = (1, 29)


@asynccontextmanager
async def in_memory(server: Server) -> AsyncIterator[Session]:
    """A client connected to ``server`` in-process, without HTTP."""
    async with create_connected_server_and_client_session(server) as session:
        yield session


@asynccontextmanager
async def over_http(url: str) -> AsyncIterator[Session]:
    """A client speaking streamable HTTP to ``url``, the way a real MCP client does, with the
    credentials every test presents."""
    http_client = create_mcp_http_client(headers=credentials.headers())
    async with (
        http_client,
        streamable_http_client(url, http_client=http_client) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


@asynccontextmanager
async def over_stdio(
    command: str, args: list[str], env: dict[str, str], errlog: TextIO
) -> AsyncIterator[Session]:
    """A client that starts the server as its child process and talks over stdin/stdout.

    The child's environment is the SDK's minimal default (PATH, HOME, ...) plus ``env``, as a
    desktop client starts it; its stderr goes to ``errlog``.
    """
    params = StdioServerParameters(command=command, args=args, env=env, cwd=NEUTRAL_CWD)
    async with (
        stdio_client(params, errlog=errlog) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def result_fields(result: CallToolResult) -> tuple[dict[str, Any] | None, bool]:
    """A tool call's structured content and error flag, by this line's field names."""
    return result.structuredContent, result.isError


async def read_resource(session: Session, uri: str) -> ReadResourceResult:
    """Read the resource at ``uri`` through the SDK's client."""
    return await session.read_resource(AnyUrl(uri))
