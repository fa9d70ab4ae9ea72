"""Protocol revisions on the wire, over real HTTP, as a client or a gateway sends them.

MCP 2026-07-28 has no handshake: each request carries its protocol version in the
``MCP-Protocol-Version`` header and in ``params._meta``, and its method (and, for named
operations, the name) in ``Mcp-Method`` / ``Mcp-Name`` headers, so gateways can route without
reading bodies. A server refuses a request whose headers are missing, duplicated, malformed or
disagree with its body: HTTP 400, JSON-RPC -32020. The SDK enforces most of that; the guard
(``protocol_header_mismatch``) refuses what the SDK, routing on the header alone, would serve.
Older clients still initialize first, on the same endpoint.

A line that does not speak 2026-07-28 (1.x) must answer such traffic the way its own revision
requires: an unsupported ``MCP-Protocol-Version`` gets 400.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from {{ cookiecutter.package_name }} import SERVER_NAME
from {{ cookiecutter.package_name }}.runtime.sdk import (
    SDK_VERSION,
    create_http_app,
    new_server,
)
from {{ cookiecutter.package_name }}.settings import Settings

from .support.client import (
    LEGACY_PROTOCOL,
    MODERN_PROTOCOL,
    NEWEST_HANDSHAKE_PROTOCOL,
    STATELESS_PROTOCOL,
    UNKNOWN_METHOD_ERROR,
    initialize_request,
    parse_rpc_response,
    rpc_request,
)
from .support.logs import LogWatch
from .support.servers import RunningServer
from .support.tools import ADD_CALL, SLOW, SUITE_TOOLS

HEADER_MISMATCH = -32020
UNSUPPORTED_PROTOCOL_VERSION = -32022
INVALID_REQUEST = -32600
VERSION_META_KEY = "io.modelcontextprotocol/protocolVersion"

speaks_2026 = pytest.mark.skipif(
    MODERN_PROTOCOL is None, reason=f"mcp {SDK_VERSION} (1.x) does not speak MCP 2026-07-28"
)
handshake_only = pytest.mark.skipif(
    MODERN_PROTOCOL is not None,
    reason=f"mcp {SDK_VERSION} speaks MCP 2026-07-28; this is how a 1.x server refuses it",
)

Headers = list[tuple[str, str]]
Mutation = Callable[[Headers, dict[str, Any]], Headers]


@dataclass(frozen=True)
class Answer:
    status: int
    message: dict[str, Any]


def stateless_request(
    method: str, params: dict[str, Any], *, request_id: int = 7
) -> tuple[Headers, dict[str, Any]]:
    """A 2026-07-28 request as a list of header lines (duplicates allowed) and a body."""
    headers, body = rpc_request(method, params, request_id=request_id, protocol=STATELESS_PROTOCOL)
    return list(headers.items()), json.loads(body)


def send(server: RunningServer, headers: Headers, body: dict[str, Any]) -> Answer:
    response = httpx.post(server.mcp_url, headers=headers, content=json.dumps(body), timeout=30)
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


# Refused by the SDK itself: its 2026-07-28 path checks headers against the body.
SDK_REFUSES = [
    pytest.param("tools/call", without("mcp-method"), id="mcp-method-missing"),
    pytest.param("tools/call", replaced("mcp-method", "tools/list"), id="mcp-method-disagrees"),
    pytest.param("tools/list", added("mcp-method", "tools/list"), id="mcp-method-duplicated"),
    pytest.param("tools/call", without("mcp-name"), id="mcp-name-missing"),
    pytest.param("tools/call", replaced("mcp-name", SLOW), id="mcp-name-disagrees"),
    pytest.param(
        "tools/list", replaced("mcp-protocol-version", "banana"), id="version-header-malformed"
    ),
    pytest.param(
        "tools/list", replaced("mcp-protocol-version", "2099-01-01"), id="version-header-newer"
    ),
    pytest.param("tools/list", declaring(LEGACY_PROTOCOL), id="version-meta-disagrees"),
    pytest.param(
        "tools/list", added("mcp-protocol-version", LEGACY_PROTOCOL), id="version-header-twice"
    ),
]
# Served by the bare SDK (it routes on the header alone, to its handshake-era path), so
# refused by the guard.
GUARD_REFUSES = [
    pytest.param("tools/call", without("mcp-protocol-version"), id="version-header-missing"),
    pytest.param(
        "tools/call",
        replaced("mcp-protocol-version", LEGACY_PROTOCOL),
        id="version-header-handshake-era",
    ),
    pytest.param(
        "tools/list", version_first(LEGACY_PROTOCOL), id="version-header-twice-handshake-first"
    ),
]


@speaks_2026
def test_client_that_never_initializes_discovers_and_calls_tools(server: RunningServer) -> None:
    discovered = send(server, *stateless_request("server/discover", {}))
    assert discovered.status == 200, discovered
    result = discovered.message["result"]
    assert MODERN_PROTOCOL in result["supportedVersions"]
    assert "tools" in result["capabilities"]
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == SERVER_NAME

    listed = send(server, *stateless_request("tools/list", {}))
    assert set(SUITE_TOOLS) <= {tool["name"] for tool in listed.message["result"]["tools"]}
    added_up = send(server, *stateless_request("tools/call", ADD_CALL))
    assert (added_up.status, added_up.message["id"]) == (200, 7)
    assert added_up.message["result"]["structuredContent"] == {"result": 5.0}


@speaks_2026
@pytest.mark.parametrize(("method", "mutate"), SDK_REFUSES + GUARD_REFUSES)
def test_headers_that_disagree_with_the_body_get_400_header_mismatch(
    server: RunningServer, logs: LogWatch, method: str, mutate: Mutation
) -> None:
    headers, body = stateless_request(method, ADD_CALL if method == "tools/call" else {})
    answer = send(server, mutate(headers, body), body)
    assert answer.status == 400, answer
    assert answer.message["id"] == 7, answer
    assert answer.message["error"]["code"] == HEADER_MISMATCH, answer
    assert logs.errors() == [], logs.dump()


@speaks_2026
@pytest.mark.parametrize("version", ["2099-01-01", "banana"], ids=["newer", "malformed"])
def test_unsupported_protocol_version_gets_400_with_the_supported_list(
    server: RunningServer, version: str
) -> None:
    """Header and body agree on a version the server does not serve."""
    headers, body = stateless_request("tools/list", {})
    body["params"]["_meta"][VERSION_META_KEY] = version
    answer = send(server, replaced("mcp-protocol-version", version)(headers, body), body)
    assert answer.status == 400, answer
    error = answer.message["error"]
    assert error["code"] == UNSUPPORTED_PROTOCOL_VERSION, answer
    assert error["data"] == {"supported": [MODERN_PROTOCOL], "requested": version}


@speaks_2026
@pytest.mark.parametrize(("method", "mutate"), GUARD_REFUSES)
def test_bare_sdk_still_serves_what_the_guard_refuses(
    serve: Callable[..., RunningServer], method: str, mutate: Mutation
) -> None:
    """Proves the guard's check is needed; tells you the day the SDK refuses these itself."""
    settings = Settings()
    bare = serve(create_http_app(new_server(settings), settings))
    headers, body = stateless_request(method, ADD_CALL if method == "tools/call" else {})
    answer = send(bare, mutate(headers, body), body)
    if answer.status == 400 and answer.message.get("error", {}).get("code") == HEADER_MISMATCH:
        pytest.fail(
            f"The bare MCP SDK {SDK_VERSION} now refuses this request itself (400, -32020): "
            "the guard's protocol_header_mismatch check for this case can go, and this test "
            "should assert the SDK's own answer instead."
        )
    assert answer.status == 200, answer
    assert "result" in answer.message, answer


@speaks_2026
def test_legacy_and_stateless_clients_share_the_endpoint(server: RunningServer) -> None:
    assert server.initialize()["result"]["protocolVersion"] == LEGACY_PROTOCOL
    legacy = server.post("tools/call", ADD_CALL, protocol=LEGACY_PROTOCOL, request_id=2)
    modern = send(server, *stateless_request("tools/call", ADD_CALL, request_id=3))
    again = server.post("tools/call", ADD_CALL, protocol=LEGACY_PROTOCOL, request_id=4)
    for answer in (legacy, modern.message, again):
        assert answer["result"]["structuredContent"] == {"result": 5.0}, answer


@speaks_2026
def test_initialize_is_not_a_2026_method(server: RunningServer) -> None:
    params = json.loads(initialize_request()[1])["params"]
    answer = send(server, *stateless_request("initialize", params))
    assert answer.status == 404, answer
    assert answer.message["error"]["code"] == UNKNOWN_METHOD_ERROR


def test_initialize_offering_2026_gets_the_newest_handshake_revision(
    server: RunningServer,
) -> None:
    """A client that offers a newer revision in initialize is answered with one it can fall to."""
    headers, body = initialize_request()
    request = json.loads(body)
    request["params"]["protocolVersion"] = STATELESS_PROTOCOL
    answer = send(server, without("mcp-protocol-version")(list(headers.items()), request), request)
    assert answer.status == 200, answer
    assert answer.message["result"]["protocolVersion"] == NEWEST_HANDSHAKE_PROTOCOL


def test_server_discover_is_unknown_to_handshake_era_requests(server: RunningServer) -> None:
    headers, body = rpc_request("server/discover", {}, request_id=5, protocol=LEGACY_PROTOCOL)
    answer = send(server, list(headers.items()), json.loads(body))
    assert answer.message["id"] == 5
    assert answer.message["error"]["code"] == UNKNOWN_METHOD_ERROR, answer


@handshake_only
@pytest.mark.parametrize("method", ["server/discover", "tools/list", "tools/call"])
def test_2026_only_request_gets_400_unsupported_protocol_version(
    server: RunningServer, logs: LogWatch, method: str
) -> None:
    """No initialize, 2026-07-28 headers: its revision says 400 for an unsupported version."""
    answer = send(server, *stateless_request(method, ADD_CALL if method == "tools/call" else {}))
    assert answer.status == 400, answer
    assert answer.message["error"]["code"] == INVALID_REQUEST, answer
    assert "Unsupported protocol version: 2026-07-28" in answer.message["error"]["message"]
    assert logs.errors() == [], logs.dump()


@handshake_only
def test_2026_meta_without_the_header_is_served_as_the_default_revision(
    server: RunningServer,
) -> None:
    """No header means 2025-03-26 to a handshake-era server; ``_meta`` keys are opaque to it."""
    headers, body = stateless_request("tools/call", ADD_CALL)
    answer = send(server, without("mcp-protocol-version")(headers, body), body)
    assert answer.status == 200, answer
    assert answer.message["result"]["structuredContent"] == {"result": 5.0}
