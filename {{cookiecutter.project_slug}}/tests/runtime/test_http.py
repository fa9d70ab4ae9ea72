"""The service over real HTTP: what an MCP client and a load balancer see."""

from __future__ import annotations

import gc
import socket
import time
from collections.abc import Callable

import anyio
import httpx
import pytest

from {{ cookiecutter.package_name }} import SERVER_NAME, __version__
from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.runtime.serving.heap import (
    freeze_startup_heap,
)
from {{ cookiecutter.package_name }}.runtime.settings import JsonResponse
from {{ cookiecutter.package_name }}.settings import Settings

from ..support import rawhttp
from ..support.client import (
    PROTOCOLS,
    call_tool,
    list_tool_names,
    over_http,
    requires_stateless_progress,
)
from ..support.logs import LogWatch
from ..support.rpc import initialize_request, rpc_request, send
from ..support.servers import RunningServer
from ..support.tools import QUICK, SLOW, SUITE_TOOLS, add_call, wait_call, waited_text


def test_healthz(server: RunningServer) -> None:
    response = httpx.get(f"{server.base_url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_initialize_answers_with_server_info(server: RunningServer) -> None:
    result = send(server.mcp_url, *initialize_request()).result
    assert result["serverInfo"]["name"] == SERVER_NAME  # the distribution's name: the slug
    assert result["serverInfo"]["version"] == __version__  # the service's, not the SDK's
    assert "tools" in result["capabilities"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_tools_over_raw_json_rpc(server: RunningServer, protocol: str) -> None:
    listed = send(server.mcp_url, *rpc_request("tools/list", {}, protocol=protocol))
    assert set(SUITE_TOOLS) <= {tool["name"] for tool in listed.result["tools"]}
    added = send(server.mcp_url, *rpc_request("tools/call", add_call(1.5, 2), protocol=protocol))
    assert added.result["structuredContent"] == {"result": 3.5}


def test_sdk_client_lists_and_calls_the_tools(
    serve: Callable[..., RunningServer], answer_mode: JsonResponse
) -> None:
    server = serve(create_app(Settings(json_response=answer_mode)))

    async def scenario() -> None:
        async with over_http(server.mcp_url) as session:
            assert set(SUITE_TOOLS) <= set(await list_tool_names(session))
            added = await call_tool(session, QUICK, {"a": 2, "b": 40})
            assert (added.structured, added.is_error) == ({"result": 42.0}, False)
            slow = await call_tool(session, SLOW, {"seconds": 0.1, "steps": 2})
            assert slow.text == "waited 0.1 seconds in 2 steps"

    anyio.run(scenario)


@requires_stateless_progress
def test_progress_notifications_reach_the_client_unless_json_is_forced(
    serve: Callable[..., RunningServer], answer_mode: JsonResponse
) -> None:
    server = serve(create_app(Settings(json_response=answer_mode)))
    reports: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        reports.append((progress, total, message))

    async def scenario() -> None:
        async with over_http(server.mcp_url) as session:
            outcome = await call_tool(session, SLOW, {"seconds": 0.2, "steps": 3}, on_progress)
            assert not outcome.is_error

    anyio.run(scenario)
    sent = [(step, 3, f"step {step} of 3") for step in (1, 2, 3)]
    assert reports == ([] if answer_mode is True else sent)


# What a request's _meta may carry, and whether its answer must then be a stream.
ASKS = [
    pytest.param({}, False, id="nothing"),
    pytest.param({"progressToken": "p"}, True, id="progress-string"),
    pytest.param({"progressToken": 7}, True, id="progress-integer"),
    pytest.param({"progressToken": True}, False, id="progress-boolean"),
]


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(("meta", "streams"), ASKS)
def test_by_default_a_call_is_a_stream_only_when_it_asked_for_progress(
    server: RunningServer, protocol: str, meta: dict[str, object], streams: bool
) -> None:
    """What the SDK reads as a progress token gets a stream; anything else plain JSON."""
    params = {**wait_call(0, 1), "_meta": meta} if meta else wait_call(0, 1)
    answer = send(server.mcp_url, *rpc_request("tools/call", params, protocol=protocol))
    kind = "text/event-stream" if streams else "application/json"
    assert answer.headers["content-type"].split(";")[0] == kind, answer
    assert answer.result["content"][0]["text"] == waited_text(0, 1)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_by_default_other_requests_get_plain_json(server: RunningServer, protocol: str) -> None:
    for method in ("tools/list", "resources/list", "prompts/list"):
        answer = send(server.mcp_url, *rpc_request(method, {}, protocol=protocol))
        assert answer.headers["content-type"] == "application/json", (method, answer)
        assert answer.status == 200, (method, answer)


def post_raw(port: int, data: bytes) -> bytes:
    """Send raw bytes; return everything the server answers before it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_declared_oversize_body_gets_413_without_being_read(
    serve: Callable[..., RunningServer], logs: LogWatch
) -> None:
    server = serve(create_app(Settings(max_body_bytes=1000)))
    headers, _ = rpc_request("tools/list", {}, protocol=PROTOCOLS[-1])
    head = rawhttp.request_head(server.port, {**headers, "content-length": "50000000"})
    answer = post_raw(server.port, head)  # not a byte of the 50 MB is sent
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b'"code": -32600' in answer
    assert b"limit is 1000 bytes" in answer
    assert logs.errors() == []
    assert len(logs.guard_warnings()) == 1


def test_streamed_oversize_body_gets_413(
    serve: Callable[..., RunningServer], logs: LogWatch
) -> None:
    server = serve(create_app(Settings(max_body_bytes=1000)))
    headers, _ = rpc_request("tools/list", {}, protocol=PROTOCOLS[0])
    chunks = iter([b"[" + b" " * 600, b" " * 600 + b"]"])  # chunked: no Content-Length
    answer = send(server.mcp_url, headers, chunks)
    assert answer.status == 413
    assert answer.message["error"]["code"] == -32600
    assert logs.errors() == []


def test_stalled_body_gets_408_within_the_timeout(
    serve: Callable[..., RunningServer], logs: LogWatch
) -> None:
    server = serve(create_app(Settings(body_timeout=0.5)))
    headers, body = rpc_request("tools/list", {}, protocol=PROTOCOLS[-1])
    head = rawhttp.request_head(server.port, {**headers, "content-length": str(len(body))})
    started = time.monotonic()
    answer = post_raw(server.port, head + body[:10])  # then nothing more
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert 0.4 < time.monotonic() - started < 5
    assert b"not received within 0.5 seconds" in answer
    assert logs.errors() == []
    assert "body timed out" in logs.guard_warnings()[0].getMessage()


def test_slow_body_that_completes_is_served(serve: Callable[..., RunningServer]) -> None:
    server = serve(create_app(Settings(json_response=True)))
    headers, body = rpc_request("tools/list", {}, protocol=PROTOCOLS[-1])
    head = rawhttp.request_head(server.port, {**headers, "content-length": str(len(body))})
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)
        for start in range(0, len(body), 16):
            sock.sendall(body[start : start + 16])
            time.sleep(0.01)
        answer = rawhttp.read_until(sock, SLOW.encode())
    assert answer.startswith(b"HTTP/1.1 200 ")


def test_only_the_mcp_path_reaches_the_guard(server: RunningServer, logs: LogWatch) -> None:
    """``/mcp`` goes straight to the guard; other paths are the SDK's router's, as before."""
    headers, body = rpc_request("tools/list", {}, protocol=PROTOCOLS[0])
    with httpx.Client(base_url=server.base_url, headers=headers) as client:
        # Not JSON-RPC, so the guard would refuse it (400); the router redirects it instead.
        slash = client.post("/mcp/", content=b"not json-rpc", follow_redirects=False)
        assert slash.status_code == 307
        assert slash.headers["location"].endswith("/mcp")
        assert client.post("/mcp/tools", content=body).status_code == 404
        assert client.post("/mcp", content=b"not json-rpc").status_code == 400
    assert logs.errors() == []


def test_the_heap_start_up_leaves_is_frozen() -> None:
    """What start-up made is out of the collector's sight (``runtime/heap.py``)."""
    gc.unfreeze()
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > 10_000  # the SDK, pydantic and the app, at least
    finally:
        gc.unfreeze()
