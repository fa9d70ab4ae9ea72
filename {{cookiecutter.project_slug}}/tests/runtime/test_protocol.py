"""Protocol revisions on the wire, over real HTTP: what every SDK line answers alike.

A client that offers a newer revision than the server's in ``initialize`` must be answered with
one it can fall back to, and the handshake-free discovery method is unknown to handshake-era
requests. What differs by line is in ``test_protocol_2026.py`` (2.x, which speaks MCP
2026-07-28) or ``test_protocol_2026_refused.py`` (1.x, which must refuse it).
"""

from __future__ import annotations

import json

import pytest

from ..support.rpc import (
    LEGACY_PROTOCOL,
    METHOD_NOT_FOUND,
    NEWEST_HANDSHAKE_PROTOCOL,
    STATELESS_PROTOCOL,
    initialize_request,
    rpc_request,
    send,
    without,
)
from ..support.servers import RunningServer


@pytest.fixture(scope="module")
def server(server_in_each_mode: RunningServer) -> RunningServer:
    """Every test here runs against the service with each value of JSON_RESPONSE."""
    return server_in_each_mode


def test_initialize_offering_2026_gets_the_newest_handshake_revision(
    server: RunningServer,
) -> None:
    """A client that offers a newer revision in initialize is answered with one it can fall to."""
    headers, body = initialize_request()
    request = json.loads(body)
    request["params"]["protocolVersion"] = STATELESS_PROTOCOL
    headers_without_version = without("mcp-protocol-version")(list(headers.items()), request)
    answer = send(server.mcp_url, headers_without_version, request)
    assert answer.result["protocolVersion"] == NEWEST_HANDSHAKE_PROTOCOL


def test_server_discover_is_unknown_to_handshake_era_requests(server: RunningServer) -> None:
    request = rpc_request("server/discover", {}, protocol=LEGACY_PROTOCOL, request_id=5)
    answer = send(server.mcp_url, *request)
    assert answer.message["id"] == 5
    assert answer.message["error"]["code"] == METHOD_NOT_FOUND, answer
