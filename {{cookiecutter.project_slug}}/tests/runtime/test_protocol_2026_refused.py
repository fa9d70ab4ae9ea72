"""MCP 2026-07-28 traffic at a 1.x server, which does not speak it.

A handshake-era server must answer such traffic the way its own revision requires: an
unsupported ``MCP-Protocol-Version`` gets 400, and without that header the request is served as
the default revision (its ``_meta`` keys are opaque to the server).
"""

from __future__ import annotations

import pytest

from ..support.logs import LogWatch
from ..support.rpc import send, stateless_request, without
from ..support.servers import RunningServer
from ..support.tools import ADD_CALL

INVALID_REQUEST = -32600


@pytest.fixture(scope="module")
def server(server_in_each_mode: RunningServer) -> RunningServer:
    """Every test here runs against the service with each value of JSON_RESPONSE."""
    return server_in_each_mode


@pytest.mark.parametrize("method", ["server/discover", "tools/list", "tools/call"])
def test_2026_only_request_gets_400_unsupported_protocol_version(
    server: RunningServer, logs: LogWatch, method: str
) -> None:
    """No initialize, 2026-07-28 headers: its revision says 400 for an unsupported version."""
    headers, body = stateless_request(method, ADD_CALL if method == "tools/call" else {})
    answer = send(server.mcp_url, headers, body)
    assert answer.status == 400, answer
    assert answer.message["error"]["code"] == INVALID_REQUEST, answer
    assert "Unsupported protocol version: 2026-07-28" in answer.message["error"]["message"]
    assert logs.errors() == [], logs.dump()


def test_2026_meta_without_the_header_is_served_as_the_default_revision(
    server: RunningServer,
) -> None:
    """No header means 2025-03-26 to a handshake-era server; ``_meta`` keys are opaque to it."""
    headers, body = stateless_request("tools/call", ADD_CALL)
    answer = send(server.mcp_url, without("mcp-protocol-version")(headers, body), body)
    assert answer.status == 200, answer
    assert answer.message["result"]["structuredContent"] == {"result": 5.0}
