"""What the tests' clients do that depends on the SDK line: this bake runs on 2.x.

Together with the package's ``runtime/sdk.py``, this is what differs between the SDK lines.
2.x speaks MCP 2026-07-28 (stateless: no handshake, headers that name the method) as well as
the handshake-era revisions, so the tests speak both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TextIO

from mcp import Client, StdioServerParameters
from mcp.client.session import ElicitationFnT
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, ReadResourceResult

from {{ cookiecutter.package_name }}.runtime.sdk import Server

from . import credentials
from .processes import NEUTRAL_CWD

# What the SDK's client raises for a JSON-RPC error; its ``error`` has the code and message.
ProtocolError = MCPError
# The code for a resource the server does not have, in the revision the in-memory client speaks:
# 2026-07-28, where it is invalid params (SEP-2164).
RESOURCE_NOT_FOUND_IN_MEMORY = -32602
Session = Client
# The wire protocols a raw-HTTP test can speak to this server.
PROTOCOLS = ("2025-06-18", "2026-07-28")
MODERN_PROTOCOL: str | None = "2026-07-28"
# The first SDK release that sends progress notifications from a stateless server.
STATELESS_PROGRESS_SINCE = (2, 0)


@asynccontextmanager
async def in_memory(server: Server, user: ElicitationFnT | None = None) -> AsyncIterator[Session]:
    """A client connected to ``server`` in-process, without HTTP.

    ``user`` answers what tools ask the user (``support/asking.py``); without one, the client
    declares that it cannot ask.
    """
    async with Client(server, elicitation_callback=user) as client:
        yield client


@asynccontextmanager
async def over_http(url: str, user: ElicitationFnT | None = None) -> AsyncIterator[Session]:
    """A client speaking streamable HTTP to ``url``, the way a real MCP client does, with the
    credentials every test presents."""
    http_client = create_mcp_http_client(headers=credentials.headers())
    transport = streamable_http_client(url, http_client=http_client)
    async with http_client, Client(transport, elicitation_callback=user) as client:
        yield client


@asynccontextmanager
async def over_stdio(
    command: str, args: list[str], env: dict[str, str], errlog: TextIO
) -> AsyncIterator[Session]:
    """A client that starts the server as its child process and talks over stdin/stdout.

    The child's environment is the SDK's minimal default (PATH, HOME, ...) plus ``env``, as a
    desktop client starts it; its stderr goes to ``errlog``.
    """
    params = StdioServerParameters(command=command, args=args, env=env, cwd=NEUTRAL_CWD)
    async with Client(stdio_client(params, errlog=errlog)) as client:
        yield client


def result_fields(result: CallToolResult) -> tuple[dict[str, Any] | None, bool]:
    """A tool call's structured content and error flag, by this line's field names."""
    return result.structured_content, result.is_error


async def read_resource(session: Session, uri: str) -> ReadResourceResult:
    """Read the resource at ``uri`` through the SDK's client."""
    return await session.read_resource(uri)
