"""The SDK's own clients, as the tests drive them: sessions, tool calls and their outcomes.

What depends on the SDK line (the client calls, the revisions it speaks) comes from
``sdk_client.py`` and is re-exported here, so tests import the SDK's side from this module; raw
JSON-RPC over HTTP, built and parsed by hand, is ``rpc.py``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import pytest

from {{ cookiecutter.package_name }}.runtime.sdk import SDK_VERSION

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
    "MODERN_PROTOCOL",
    "PROTOCOLS",
    "RESOURCE_NOT_FOUND_IN_MEMORY",
    "ProgressCallback",
    "ProtocolError",
    "Session",
    "ToolOutcome",
    "call_tool",
    "in_memory",
    "list_tool_names",
    "over_http",
    "over_stdio",
    "read_resource",
    "requires_stateless_progress",
]

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
