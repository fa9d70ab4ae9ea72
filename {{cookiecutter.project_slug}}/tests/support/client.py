"""The wire format the tests speak: requests as clients put them on the wire, answers parsed.

One home for both directions, and for the requests a test breaks on purpose. What depends on
the SDK line (the SDK's client calls, the revisions it speaks) comes from ``sdk_client.py``
and is re-exported here, so tests import everything from this module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import pytest

from {{ cookiecutter.package_name }}.runtime.sdk import SDK_VERSION

from . import credentials
from .sdk_client import (
    MODERN_PROTOCOL,
    PROTOCOLS,
    RESOURCE_NOT_FOUND_IN_MEMORY,
    STATELESS_PROGRESS_SINCE,
    ProtocolError,
    Session,
    in_memory,
    over_http,
    over_stdio,
    read_resource,
    result_fields,
)

__all__ = [
    "HTTP",
    "LEGACY_PROTOCOL",
    "METHOD_NOT_FOUND",
    "MODERN_PROTOCOL",
    "NEWEST_HANDSHAKE_PROTOCOL",
    "PROTOCOLS",
    "RESOURCE_NOT_FOUND_IN_MEMORY",
    "STATELESS_PROTOCOL",
    "VERSION_META_KEY",
    "Answer",
    "Headers",
    "Mutation",
    "ProgressCallback",
    "ProtocolError",
    "Session",
    "ToolOutcome",
    "added",
    "call_tool",
    "declaring",
    "in_memory",
    "initialize_request",
    "list_tool_names",
    "over_http",
    "over_stdio",
    "parse_rpc_response",
    "post_rpc",
    "read_resource",
    "replaced",
    "requires_stateless_progress",
    "rpc_answer",
    "rpc_request",
    "send",
    "stateless_request",
    "version_first",
    "without",
]

LEGACY_PROTOCOL = "2025-06-18"
# JSON-RPC's code for a method the server does not serve, on both lines.
METHOD_NOT_FOUND = -32601
# The suite's HTTP client. Building one costs some 20 ms of CPU (its TLS context), which
# ``httpx.post`` pays on every call; without keep-alive, each request still gets a connection
# of its own, as with ``httpx.post``.
HTTP = httpx.Client(timeout=30, limits=httpx.Limits(max_keepalive_connections=0))
# The newest revision with an initialize handshake: what both lines answer to a client that
# offers a newer one in initialize.
NEWEST_HANDSHAKE_PROTOCOL = "2025-11-25"
# The handshake-free revision, whether or not this line speaks it (tests send it either way).
STATELESS_PROTOCOL = "2026-07-28"

requires_stateless_progress = pytest.mark.skipif(
    tuple(int(part) for part in SDK_VERSION.split(".")[:2]) < STATELESS_PROGRESS_SINCE,
    reason=f"mcp {SDK_VERSION} sends no progress notifications in stateless mode",
)


class ProgressCallback(Protocol):
    async def __call__(self, progress: float, total: float | None, message: str | None) -> None: ...


@dataclass(frozen=True)
class ToolOutcome:
    """What a tool call gave the client: its text, its structured content, whether an error."""

    text: str
    structured: dict[str, Any] | None
    is_error: bool


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
    return ToolOutcome(text, *result_fields(result))


def rpc_request(
    method: str, params: dict[str, Any], *, request_id: int, protocol: str
) -> tuple[dict[str, str], bytes]:
    """Headers and body of one JSON-RPC request as ``protocol`` puts it on the wire."""
    headers = {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": protocol,
        **credentials.headers(),
    }
    if protocol == STATELESS_PROTOCOL:
        # 2026-07-28: no handshake; every request names itself in headers and in _meta.
        headers["mcp-method"] = method
        # What the request names: a tool or prompt by name, a resource by URI.
        named = params.get("name", params.get("uri"))
        if named is not None:
            headers["mcp-name"] = named
        params = {
            **params,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": protocol,
                "io.modelcontextprotocol/clientCapabilities": {},
                **params.get("_meta", {}),  # a test's own, e.g. capabilities, win
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
    return HTTP.post(url, headers=headers, content=body)


def rpc_answer(response: httpx.Response) -> Any:
    """The JSON-RPC response carried by a 200 answer (plain JSON or an SSE stream)."""
    assert response.status_code == 200, response.text
    return parse_rpc_response(response.headers.get("content-type", ""), response.text)


# Requests as header lines (duplicates allowed) and a body, for tests that break them on purpose.
VERSION_META_KEY = "io.modelcontextprotocol/protocolVersion"
Headers = list[tuple[str, str]]
Mutation = Callable[[Headers, dict[str, Any]], Headers]


@dataclass(frozen=True)
class Answer:
    """An HTTP status and the JSON-RPC message that came with it."""

    status: int
    message: dict[str, Any]


def stateless_request(
    method: str, params: dict[str, Any], *, request_id: int = 7
) -> tuple[Headers, dict[str, Any]]:
    """A 2026-07-28 request as a list of header lines (duplicates allowed) and a body."""
    headers, body = rpc_request(method, params, request_id=request_id, protocol=STATELESS_PROTOCOL)
    return list(headers.items()), json.loads(body)


def send(url: str, headers: Headers, body: dict[str, Any]) -> Answer:
    """POST a request given as header lines and a body; the status and the JSON-RPC answer."""
    response = HTTP.post(url, headers=headers, content=json.dumps(body))
    content_type = response.headers.get("content-type", "")
    return Answer(response.status_code, parse_rpc_response(content_type, response.text))


def without(name: str) -> Mutation:
    return lambda headers, body: [(key, value) for key, value in headers if key != name]


def replaced(name: str, value: str) -> Mutation:
    return lambda headers, body: [*without(name)(headers, body), (name, value)]


def added(name: str, value: str) -> Mutation:
    return lambda headers, body: [*headers, (name, value)]


def version_first(value: str) -> Mutation:
    """A second protocol-version header, placed before the right one."""
    return lambda headers, body: [("mcp-protocol-version", value), *headers]


def declaring(version: str) -> Mutation:
    """Leave the headers alone; make the body's ``_meta`` declare another version."""

    def mutate(headers: Headers, body: dict[str, Any]) -> Headers:
        body["params"]["_meta"][VERSION_META_KEY] = version
        return headers

    return mutate
