"""MCP 2026-07-28 on the wire, over real HTTP, as a client or a gateway sends it.

MCP 2026-07-28 has no handshake: each request carries its protocol version in the
``MCP-Protocol-Version`` header and in ``params._meta``, and its method (and, for named
operations, the name) in ``Mcp-Method`` / ``Mcp-Name`` headers, so gateways can route without
reading bodies. A server refuses a request whose headers are missing, duplicated, malformed or
disagree with its body: HTTP 400, JSON-RPC -32020. The SDK enforces most of that; the guard
(``runtime/protocol_headers.py``) refuses what the SDK, routing on the header alone, would
serve. Older clients still initialize first, on the same endpoint.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from {{ cookiecutter.package_name }} import SERVER_NAME
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.runtime.sdk import (
    SDK_VERSION,
    ToolContext,
    create_http_app,
    new_server,
)
from {{ cookiecutter.package_name }}.settings import Settings

from ..support.client import MODERN_PROTOCOL
from ..support.logs import LogWatch
from ..support.rpc import (
    LEGACY_PROTOCOL,
    METHOD_NOT_FOUND,
    VERSION_META_KEY,
    Mutation,
    added,
    declaring,
    initialize_request,
    replaced,
    rpc_request,
    send,
    stateless_request,
    version_first,
    without,
)
from ..support.servers import RunningServer
from ..support.tools import ADD_CALL, SLOW, SUITE_TOOLS, suite

HEADER_MISMATCH = -32020
UNSUPPORTED_PROTOCOL_VERSION = -32022
LOG_LEVEL_META_KEY = "io.modelcontextprotocol/logLevel"

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


@pytest.fixture(scope="module")
def server(server_in_each_mode: RunningServer) -> RunningServer:
    """Every test here runs against the service with each value of JSON_RESPONSE."""
    return server_in_each_mode


def test_client_that_never_initializes_discovers_and_calls_tools(server: RunningServer) -> None:
    discovered = send(server.mcp_url, *stateless_request("server/discover", {}))
    assert discovered.status == 200, discovered
    result = discovered.message["result"]
    assert MODERN_PROTOCOL in result["supportedVersions"]
    assert "tools" in result["capabilities"]
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == SERVER_NAME

    listed = send(server.mcp_url, *stateless_request("tools/list", {}))
    assert set(SUITE_TOOLS) <= {tool["name"] for tool in listed.message["result"]["tools"]}
    added_up = send(server.mcp_url, *stateless_request("tools/call", ADD_CALL))
    assert (added_up.status, added_up.message["id"]) == (200, 7)
    assert added_up.message["result"]["structuredContent"] == {"result": 5.0}


@pytest.mark.parametrize(("method", "mutate"), SDK_REFUSES + GUARD_REFUSES)
def test_headers_that_disagree_with_the_body_get_400_header_mismatch(
    server: RunningServer, logs: LogWatch, method: str, mutate: Mutation
) -> None:
    headers, body = stateless_request(method, ADD_CALL if method == "tools/call" else {})
    answer = send(server.mcp_url, mutate(headers, body), body)
    assert answer.status == 400, answer
    assert answer.message["id"] == 7, answer
    assert answer.message["error"]["code"] == HEADER_MISMATCH, answer
    assert logs.errors() == [], logs.dump()


@pytest.mark.parametrize("version", ["2099-01-01", "banana"], ids=["newer", "malformed"])
def test_unsupported_protocol_version_gets_400_with_the_supported_list(
    server: RunningServer, version: str
) -> None:
    """Header and body agree on a version the server does not serve."""
    headers, body = stateless_request("tools/list", {})
    body["params"]["_meta"][VERSION_META_KEY] = version
    answer = send(server.mcp_url, replaced("mcp-protocol-version", version)(headers, body), body)
    assert answer.status == 400, answer
    error = answer.message["error"]
    assert error["code"] == UNSUPPORTED_PROTOCOL_VERSION, answer
    assert error["data"] == {"supported": [MODERN_PROTOCOL], "requested": version}


@pytest.mark.parametrize(("method", "mutate"), GUARD_REFUSES)
def test_bare_sdk_still_serves_what_the_guard_refuses(
    serve: Callable[..., RunningServer], method: str, mutate: Mutation
) -> None:
    """Proves the guard's check is needed; tells you the day the SDK refuses these itself."""
    settings = Settings()
    server = new_server(settings)
    suite.register(server)
    bare = serve(create_http_app(server, settings, json_response=False).app)
    headers, body = stateless_request(method, ADD_CALL if method == "tools/call" else {})
    answer = send(bare.mcp_url, mutate(headers, body), body)
    if answer.status == 400 and answer.message.get("error", {}).get("code") == HEADER_MISMATCH:
        pytest.fail(
            f"The bare MCP SDK {SDK_VERSION} now refuses this request itself (400, -32020): "
            "the guard's protocol_header_mismatch check for this case can go, and this test "
            "should assert the SDK's own answer instead."
        )
    assert answer.status == 200, answer
    assert "result" in answer.message, answer


def test_legacy_and_stateless_clients_share_the_endpoint(server: RunningServer) -> None:
    initialized = send(server.mcp_url, *initialize_request())
    assert initialized.result["protocolVersion"] == LEGACY_PROTOCOL
    legacy = rpc_request("tools/call", ADD_CALL, protocol=LEGACY_PROTOCOL, request_id=2)
    modern = stateless_request("tools/call", ADD_CALL, request_id=3)
    again = rpc_request("tools/call", ADD_CALL, protocol=LEGACY_PROTOCOL, request_id=4)
    for request in (legacy, modern, again):
        answer = send(server.mcp_url, *request)
        assert answer.result["structuredContent"] == {"result": 5.0}, answer


def test_initialize_is_not_a_2026_method(server: RunningServer) -> None:
    params = json.loads(initialize_request()[1])["params"]
    answer = send(server.mcp_url, *stateless_request("initialize", params))
    assert answer.status == 404, answer
    assert answer.message["error"]["code"] == METHOD_NOT_FOUND


# Log messages are deprecated in MCP 2026-07-28 (SEP-2577), and still served.
@pytest.mark.filterwarnings("ignore:The logging capability is deprecated")
@pytest.mark.parametrize("opted_in", [False, True], ids=["no-log-level", "log-level"])
def test_a_call_that_asks_for_log_messages_gets_them_on_a_stream(
    serve: Callable[..., RunningServer], opted_in: bool
) -> None:
    """By default, a 2026-07-28 call that opts in to log messages gets them before its answer,
    as an SSE stream; one that does not is answered with plain JSON, and gets none."""
    app = create_app(Settings())

    async def chatty(ctx: ToolContext) -> str:
        """Tells the client what it is doing, through its context."""
        await ctx.info("thinking")
        return "said"

    app.state.mcp_server.add_tool(chatty)
    server = serve(app)
    params: dict[str, object] = {"name": "chatty", "arguments": {}}
    if opted_in:
        params["_meta"] = {LOG_LEVEL_META_KEY: "info"}
    answer = send(server.mcp_url, *stateless_request("tools/call", params))
    assert answer.result["content"][0]["text"] == "said", answer
    kind = answer.headers["content-type"].split(";")[0]
    if opted_in:
        assert kind == "text/event-stream", answer
        assert '"method":"notifications/message"' in answer.text, answer
        assert '"data":"thinking"' in answer.text, answer
    else:
        assert kind == "application/json", answer
        assert "notifications/message" not in answer.text, answer
