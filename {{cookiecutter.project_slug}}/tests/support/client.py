{% if cookiecutter.mcp_sdk == "2.x" %}
"""Client-side calls the tests make, for the SDK line this service runs on (2.x).

Together with the package's ``sdk.py``, this is all that differs between the SDK lines.
2.x speaks MCP 2026-07-28 (stateless: no handshake, headers that name the method) as well as
the handshake-era revisions, so the tests speak both.
"""
{% else %}
"""Client-side calls the tests make, for the SDK line this service runs on (1.x).

Together with the package's ``sdk.py``, this is all that differs between the SDK lines.
1.x speaks the handshake-era revisions only (up to 2025-11-25).
"""
{% endif %}

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

import httpx
import pytest
{% if cookiecutter.mcp_sdk == "2.x" %}
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
{% if cookiecutter.auth != "none" %}
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
{% endif %}
{% else %}
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
{% if cookiecutter.auth != "none" %}
from mcp.shared._httpx_utils import create_mcp_http_client
{% endif %}
from mcp.shared.memory import create_connected_server_and_client_session
{% endif %}

from {{ cookiecutter.package_name }}.runtime.sdk import SDK_VERSION, Server

{% if cookiecutter.auth != "none" %}
from . import credentials
{% endif %}
from .processes import NEUTRAL_CWD

{% if cookiecutter.mcp_sdk == "2.x" %}
Session = Client
# The wire protocols a raw-HTTP test can speak to this server.
PROTOCOLS = ("2025-06-18", "2026-07-28")
MODERN_PROTOCOL = "2026-07-28"
{% else %}
Session = ClientSession
# The wire protocols a raw-HTTP test can speak to this server.
PROTOCOLS = ("2025-06-18",)
MODERN_PROTOCOL = None
{% endif %}
LEGACY_PROTOCOL = "2025-06-18"
# The newest revision with an initialize handshake: what both lines answer to a client that
# offers a newer one in initialize.
NEWEST_HANDSHAKE_PROTOCOL = "2025-11-25"
# The handshake-free revision, whether or not this line speaks it (tests send it either way).
STATELESS_PROTOCOL = "2026-07-28"
{% if cookiecutter.mcp_sdk == "2.x" %}
# The JSON-RPC error for a method the server does not know (server/discover before 2026-07-28).
UNKNOWN_METHOD_ERROR = -32601
{% else %}
# The JSON-RPC error for a method the server does not know (server/discover): 1.x validates
# requests against its method list and answers "Invalid request parameters", not -32601.
UNKNOWN_METHOD_ERROR = -32602
{% endif %}
{% if cookiecutter.mcp_sdk == "2.x" %}
# The first SDK release that sends progress notifications from a stateless server.
STATELESS_PROGRESS_SINCE = (2, 0)
{% else %}
# The first SDK release that sends progress notifications from a stateless server
# (mcp 1.26 to 1.28 drop them silently).
STATELESS_PROGRESS_SINCE = (1, 29)
{% endif %}

requires_stateless_progress = pytest.mark.skipif(
    tuple(int(part) for part in SDK_VERSION.split(".")[:2]) < STATELESS_PROGRESS_SINCE,
    reason=f"mcp {SDK_VERSION} sends no progress notifications in stateless mode",
)


class ProgressCallback(Protocol):
    async def __call__(self, progress: float, total: float | None, message: str | None) -> None: ...


@dataclass(frozen=True)
class ToolOutcome:
    text: str
    structured: dict[str, Any] | None
    is_error: bool


@asynccontextmanager
async def in_memory(server: Server) -> AsyncIterator[Session]:
    """A client connected to ``server`` in-process, without HTTP."""
{% if cookiecutter.mcp_sdk == "2.x" %}
    async with Client(server) as client:
        yield client
{% else %}
    async with create_connected_server_and_client_session(server) as session:
        yield session
{% endif %}


@asynccontextmanager
async def over_http(url: str) -> AsyncIterator[Session]:
    """A client speaking streamable HTTP to ``url``, the way a real MCP client does."""
{% if cookiecutter.mcp_sdk == "2.x" %}
{% if cookiecutter.auth != "none" %}
    http_client = create_mcp_http_client(headers=credentials.headers())
    async with http_client, Client(streamable_http_client(url, http_client=http_client)) as client:
        yield client
{% else %}
    async with Client(url) as client:
        yield client
{% endif %}
{% else %}
{% if cookiecutter.auth != "none" %}
    http_client = create_mcp_http_client(headers=credentials.headers())
    async with (
        http_client,
        streamable_http_client(url, http_client=http_client) as (read, write, _),
        ClientSession(read, write) as session,
    ):
{% else %}
    async with (
        streamable_http_client(url) as (read, write, _),
        ClientSession(read, write) as session,
    ):
{% endif %}
        await session.initialize()
        yield session
{% endif %}


@asynccontextmanager
async def over_stdio(
    command: str, args: list[str], env: dict[str, str], errlog: TextIO
) -> AsyncIterator[Session]:
    """A client that starts the server as its child process and talks over stdin/stdout.

    The child's environment is the SDK's minimal default (PATH, HOME, ...) plus ``env``, as a
    desktop client starts it; its stderr goes to ``errlog``.
    """
    params = StdioServerParameters(command=command, args=args, env=env, cwd=NEUTRAL_CWD)
{% if cookiecutter.mcp_sdk == "2.x" %}
    async with Client(stdio_client(params, errlog=errlog)) as client:
        yield client
{% else %}
    async with (
        stdio_client(params, errlog=errlog) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session
{% endif %}


async def list_tool_names(session: Session) -> list[str]:
    return sorted(tool.name for tool in (await session.list_tools()).tools)


async def call_tool(
    session: Session,
    name: str,
    arguments: dict[str, Any],
    on_progress: ProgressCallback | None = None,
) -> ToolOutcome:
    result = await session.call_tool(name, arguments, progress_callback=on_progress)
    text = "".join(getattr(block, "text", "") for block in result.content)
{% if cookiecutter.mcp_sdk == "2.x" %}
    return ToolOutcome(text, result.structured_content, result.is_error)
{% else %}
    return ToolOutcome(text, result.structuredContent, result.isError)
{% endif %}


def rpc_request(
    method: str, params: dict[str, Any], *, request_id: int, protocol: str
) -> tuple[dict[str, str], bytes]:
    """Headers and body of one JSON-RPC request as ``protocol`` puts it on the wire."""
    headers = {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": protocol,
{% if cookiecutter.auth != "none" %}
        **credentials.headers(),
{% endif %}
    }
    if protocol == STATELESS_PROTOCOL:
        # 2026-07-28: no handshake; every request names itself in headers and in _meta.
        headers["mcp-method"] = method
        if "name" in params:
            headers["mcp-name"] = params["name"]
        params = {
            **params,
            "_meta": {
                **params.get("_meta", {}),
                "io.modelcontextprotocol/protocolVersion": protocol,
                "io.modelcontextprotocol/clientCapabilities": {},
            },
        }
    body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
    return headers, json.dumps(body).encode()


def initialize_request(request_id: int = 1) -> tuple[dict[str, str], bytes]:
    """A handshake-era ``initialize``, as legacy clients send before anything else."""
    params = {
        "protocolVersion": LEGACY_PROTOCOL,
        "capabilities": {},
        "clientInfo": {"name": "tests", "version": "0"},
    }
    return rpc_request("initialize", params, request_id=request_id, protocol=LEGACY_PROTOCOL)


def parse_rpc_response(content_type: str, text: str) -> Any:
    """The JSON-RPC response in a plain JSON answer or in an SSE stream (its last message)."""
    if content_type.startswith("application/json"):
        return json.loads(text)
    messages = [
        json.loads(line.removeprefix("data:").strip())
        for line in text.splitlines()
        if line.startswith("data:") and line.removeprefix("data:").strip()
    ]
    responses = [message for message in messages if "id" in message and "method" not in message]
    if not responses:
        raise AssertionError(f"no JSON-RPC response in the SSE stream: {text!r}")
    return responses[-1]


def post_rpc(
    url: str, method: str, params: dict[str, Any], protocol: str, *, request_id: int = 1
) -> httpx.Response:
    """One JSON-RPC request, as ``protocol`` puts it on the wire, POSTed to ``url``."""
    headers, body = rpc_request(method, params, request_id=request_id, protocol=protocol)
    return httpx.post(url, headers=headers, content=body, timeout=30)


def rpc_answer(response: httpx.Response) -> Any:
    """The JSON-RPC response carried by a 200 answer (plain JSON or an SSE stream)."""
    assert response.status_code == 200, response.text
    return parse_rpc_response(response.headers.get("content-type", ""), response.text)
