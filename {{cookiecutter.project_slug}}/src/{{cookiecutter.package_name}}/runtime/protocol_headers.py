"""MCP 2026-07-28: a request's ``MCP-Protocol-Version`` header must agree with its body.

MCP 2026-07-28 requests name their protocol version twice, in this header and in
``params._meta``, and a server must refuse one whose two disagree (HTTP 400, JSON-RPC -32020).
The SDK checks that itself for a request whose one header names a handshake-free revision, so
that hot path costs one scan of the headers here. The SDK routes on the header alone, though,
and serves as a handshake-era request one whose body declares a version while its header is
missing, names another revision, or is sent twice with a handshake-era value first: those are
the cases refused here.
"""

from __future__ import annotations

from typing import Any, Final

from mcp.types.version import MODERN_PROTOCOL_VERSIONS
from starlette.types import Scope

from .jsonrpc import HEADER_MISMATCH, RejectedRequest, answerable_id

# The handshake-free revisions this SDK serves.
_MODERN: Final = frozenset(MODERN_PROTOCOL_VERSIONS)
_PROTOCOL_VERSION_HEADER: Final = b"mcp-protocol-version"
_PROTOCOL_VERSION_META_KEY: Final = "io.modelcontextprotocol/protocolVersion"


def check_protocol_header(scope: Scope, message: dict[str, Any]) -> RejectedRequest | None:
    """The answer to a request whose ``MCP-Protocol-Version`` header disagrees with
    ``message`` (400, -32020), or None when they agree."""
    mismatch = protocol_header_mismatch(scope, message)
    if mismatch is None:
        return None
    return RejectedRequest(400, HEADER_MISMATCH, mismatch, answerable_id(message))


def protocol_header_mismatch(scope: Scope, message: dict[str, Any]) -> str | None:
    """Why the request's ``MCP-Protocol-Version`` header disagrees with ``message``, or None."""
    values = [value for name, value in scope["headers"] if name == _PROTOCOL_VERSION_HEADER]
    if len(values) == 1 and values[0].decode("latin-1") in _MODERN:
        return None
    declared = _declared_protocol(message)
    if len(values) > 1 and (
        declared is not None or any(v.decode("latin-1") in _MODERN for v in values)
    ):
        return "mcp-protocol-version header appears more than once"
    if declared is not None and (not values or values[0].decode("latin-1") != declared):
        return (
            "mcp-protocol-version header is missing or does not match the protocol version "
            "in the request's params._meta"
        )
    return None


def _declared_protocol(message: dict[str, Any]) -> str | None:
    """The protocol version a 2026-07-28 request declares in ``params._meta``, if any."""
    params = message.get("params")
    meta = params.get("_meta") if isinstance(params, dict) else None
    declared = meta.get(_PROTOCOL_VERSION_META_KEY) if isinstance(meta, dict) else None
    return declared if isinstance(declared, str) else None
