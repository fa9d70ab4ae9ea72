"""Every fault a client or the network can cause ends in a clear answer or one WARNING.

What each case answers and logs is listed in ``docs/faults.md``'s table;
these tests hold the service to it against a real server and raw sockets.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable

import httpx
import pytest

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.runtime.settings import JsonResponse
from {{ cookiecutter.package_name }}.settings import Settings

from ..support import credentials, rawhttp
from ..support.client import PROTOCOLS
from ..support.logs import GUARD_LOGGER, LogWatch
from ..support.rpc import rpc_request, send
from ..support.servers import AnswerRoute, RunningServer
from ..support.tools import add_call

ADD = add_call(20, 22)


def assert_still_serving(server: RunningServer) -> None:
    for protocol in PROTOCOLS:
        request = rpc_request("tools/call", ADD, protocol=protocol, request_id=99)
        assert send(server.mcp_url, *request).result["structuredContent"] == {"result": 42.0}


def settle(server: RunningServer, logs: LogWatch) -> None:
    """Once the server is done with every request so far, nothing was logged at ERROR."""
    server.settle()
    assert logs.errors() == [], logs.dump()
    assert logs.tracebacks() == [], logs.dump()


# --- bodies cut short -----------------------------------------------------------------------


@pytest.mark.parametrize("cut_at", [1, 20, 60], ids=["request-line", "mid-headers", "no-blank"])
def test_connection_cut_before_the_headers_are_complete_reaches_nobody(
    server_in_each_mode: RunningServer, logs: LogWatch, cut_at: int
) -> None:
    """No request reached the service: nothing to warn about (load balancers' TCP probes do
    this all day); the server keeps answering."""
    headers, body = rpc_request("tools/call", ADD, protocol=PROTOCOLS[0])
    head = rawhttp.request_head(
        server_in_each_mode.port, {**headers, "content-length": str(len(body))}
    )
    server_in_each_mode.send_and_close(head[:cut_at])
    assert_still_serving(server_in_each_mode)
    settle(server_in_each_mode, logs)
    assert logs.guard_warnings() == []


@pytest.mark.parametrize("shape", ["content-length", "headers-only", "chunked"])
def test_body_cut_short_on_a_kept_alive_connection(
    server_in_each_mode: RunningServer, logs: LogWatch, shape: str
) -> None:
    protocol = PROTOCOLS[-1]
    headers, body = rpc_request("tools/call", ADD, protocol=protocol)
    first = rawhttp.request_head(
        server_in_each_mode.port, {**headers, "content-length": str(len(body))}
    )
    with socket.create_connection(("127.0.0.1", server_in_each_mode.port), timeout=10) as sock:
        sock.sendall(first + body)
        assert rawhttp.read_until(sock, b'"result":42.0').startswith(b"HTTP/1.1 200 ")
        server_in_each_mode.settle()  # the first request is done with
        partial = body[: len(body) // 2]
        if shape == "chunked":
            second = rawhttp.request_head(
                server_in_each_mode.port, {**headers, "transfer-encoding": "chunked"}
            )
            second += f"{len(partial):x}\r\n".encode() + partial + b"\r\n"
        else:
            second = rawhttp.request_head(
                server_in_each_mode.port, {**headers, "content-length": "9999"}
            )
            second += partial if shape == "content-length" else b""
        sock.sendall(second)
        server_in_each_mode.hang_up(sock)
    assert_still_serving(server_in_each_mode)
    settle(server_in_each_mode, logs)
    (warning,) = logs.guard_warnings()
    assert "before its request body was complete" in warning.getMessage()


def test_slow_chunked_body_that_completes_is_served(server_in_each_mode: RunningServer) -> None:
    headers, body = rpc_request("tools/call", ADD, request_id=5, protocol=PROTOCOLS[-1])
    head = rawhttp.request_head(
        server_in_each_mode.port, {**headers, "transfer-encoding": "chunked"}
    )
    with socket.create_connection(("127.0.0.1", server_in_each_mode.port), timeout=10) as sock:
        sock.sendall(head)
        for start in range(0, len(body), 7):
            piece = body[start : start + 7]
            sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            time.sleep(0.005)
        sock.sendall(b"0\r\n\r\n")
        answer = rawhttp.read_until(sock, b'"result":42.0')
    assert answer.startswith(b"HTTP/1.1 200 ")


# --- malformed requests ---------------------------------------------------------------------

TOOLS_LIST = b'{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'
JSON_HEADERS = {
    "content-type": "application/json",
    "accept": "application/json, text/event-stream",
    **credentials.headers(),
}


def without(name: str) -> dict[str, str]:
    return {key: value for key, value in JSON_HEADERS.items() if key != name}


# (id, headers, body, expected HTTP status, expected JSON-RPC error code or None)
MALFORMED = [
    ("not-json", JSON_HEADERS, b"{nope", 400, -32700),
    ("not-utf8", JSON_HEADERS, b'{"jsonrpc":"2.0","id":1,"method":"\xff\xfe"}', 400, -32700),
    ("nesting-100k", JSON_HEADERS, b"[" * 100_000 + b"]" * 100_000, 400, -32700),
    ("empty-body", JSON_HEADERS, b"", 400, -32700),
    ("json-string", JSON_HEADERS, b'"tools/list"', 400, -32600),
    ("no-jsonrpc", JSON_HEADERS, b'{"id":1,"method":"tools/list"}', 400, -32600),
    ("jsonrpc-1.0", JSON_HEADERS, b'{"jsonrpc":"1.0","id":1,"method":"tools/list"}', 400, -32600),
    ("method-number", JSON_HEADERS, b'{"jsonrpc":"2.0","id":1,"method":7}', 400, -32600),
    ("no-method", JSON_HEADERS, b'{"jsonrpc":"2.0","id":1}', 400, -32600),
    ("batch", JSON_HEADERS, b"[" + TOOLS_LIST + b"," + TOOLS_LIST + b"]", 400, -32600),
    ("empty-batch", JSON_HEADERS, b"[]", 400, -32600),
    ("text-plain", {**JSON_HEADERS, "content-type": "text/plain"}, TOOLS_LIST, 415, -32600),
    ("no-content-type", without("content-type"), TOOLS_LIST, 415, -32600),
    ("no-accept", without("accept"), TOOLS_LIST, 406, None),
]


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [pytest.param(*case[1:], id=case[0]) for case in MALFORMED],
)
def test_malformed_requests_get_the_right_status_and_no_error_log(
    server_in_each_mode: RunningServer,
    logs: LogWatch,
    headers: dict[str, str],
    body: bytes,
    status: int,
    code: int | None,
) -> None:
    head = rawhttp.request_head(
        server_in_each_mode.port,
        {**headers, "content-length": str(len(body)), "connection": "close"},
    )
    got_status, answer = rawhttp.exchange(server_in_each_mode.port, head + body)
    assert got_status == status, answer
    if code is not None:
        error = json.loads(answer)
        assert error["jsonrpc"] == "2.0"
        assert error["error"]["code"] == code, error
    assert_still_serving(server_in_each_mode)
    settle(server_in_each_mode, logs)
    assert logs.warnings() == [], logs.dump()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_client_that_accepts_only_json_gets_406_only_where_the_answer_is_a_stream(
    serve: Callable[..., RunningServer], logs: LogWatch, answer_route: AnswerRoute, protocol: str
) -> None:
    """``Accept: application/json`` alone: a call answered with JSON is served; one that the
    setting answers with a stream, because it asked for progress or always, gets 406."""
    server = serve(create_app(Settings(json_response=answer_route.json_response)))
    headers, body = rpc_request("tools/call", {**ADD, **answer_route.meta()}, protocol=protocol)
    answer = send(server.mcp_url, {**headers, "accept": "application/json"}, body)
    if answer_route.streams:
        assert answer.status == 406, answer
    else:
        assert answer.headers["content-type"] == "application/json", answer
        assert answer.result["structuredContent"] == {"result": 42.0}
    settle(server, logs)
    assert logs.warnings() == [], logs.dump()


def test_the_json_rpc_id_is_echoed_when_it_can_be_read(server_in_each_mode: RunningServer) -> None:
    body = b'{"jsonrpc":"1.0","id":"abc","method":"tools/list"}'
    head = rawhttp.request_head(
        server_in_each_mode.port,
        {**JSON_HEADERS, "content-length": str(len(body)), "connection": "close"},
    )
    status, answer = rawhttp.exchange(server_in_each_mode.port, head + body)
    assert (status, json.loads(answer)["id"]) == (400, "abc")


def test_a_content_length_that_is_not_a_number_is_refused_by_the_http_server(
    server_in_each_mode: RunningServer, logs: LogWatch
) -> None:
    head = rawhttp.request_head(
        server_in_each_mode.port, {**JSON_HEADERS, "content-length": "ten", "connection": "close"}
    )
    status, _ = rawhttp.exchange(server_in_each_mode.port, head + TOOLS_LIST)
    assert status == 400
    assert_still_serving(server_in_each_mode)
    settle(server_in_each_mode, logs)


@pytest.mark.parametrize(
    ("method", "status"),
    [("DELETE", 405), ("PUT", 405), ("PATCH", 405), ("HEAD", 405), ("OPTIONS", 405)],
)
def test_methods_other_than_post_on_mcp(
    server_in_each_mode: RunningServer, logs: LogWatch, method: str, status: int
) -> None:
    response = httpx.request(
        method, server_in_each_mode.mcp_url, headers=JSON_HEADERS, content=b"{}"
    )
    assert response.status_code == status
    settle(server_in_each_mode, logs)


# --- faults on the server side stay visible -------------------------------------------------


def test_a_tool_that_raises_is_a_tool_error_and_one_error_log(
    serve: Callable[..., RunningServer], logs: LogWatch, answer_mode: JsonResponse
) -> None:
    app = create_app(Settings(json_response=answer_mode))

    async def broken(x: int) -> int:
        """Fails, as a buggy tool does."""
        raise RuntimeError(f"bug with {x}")

    app.state.mcp_server.add_tool(broken)  # through the SDK's own API
    server = serve(app)
    for protocol in PROTOCOLS:
        call = {"name": "broken", "arguments": {"x": 3}}
        answer = send(server.mcp_url, *rpc_request("tools/call", call, protocol=protocol))
        assert answer.result["isError"] is True, answer
    server.settle()
    errors = logs.errors()
    assert len(errors) == len(PROTOCOLS), logs.dump()
    for error in errors:
        assert error.exc_info is not None
        raised = error.exc_info[1]
        assert raised is not None
        assert "bug with 3" in repr(raised.__cause__ or raised)
    assert logs.guard_warnings() == []


def test_an_app_fault_is_a_500_and_one_error_never_a_warning(
    serve: Callable[..., RunningServer], logs: LogWatch, answer_route: AnswerRoute
) -> None:
    app = create_app(Settings(json_response=answer_route.json_response))

    async def explode(scope: object, receive: object, send: object) -> None:
        raise RuntimeError("app bug")

    # What a bug below the guard looks like, in whichever of the SDK's apps answers the call.
    guard = app.state.guard
    guard.app = explode
    if guard.json_app is not None:
        guard.json_app = explode
    server = serve(app)
    params = {**ADD, **answer_route.meta()}
    answer = send(server.mcp_url, *rpc_request("tools/call", params, protocol=PROTOCOLS[0]))
    assert answer.status == 500
    server.settle()
    (error,) = logs.errors()
    assert error.exc_info is not None
    assert str(error.exc_info[1]) == "app bug"
    assert logs.guard_warnings() == []


# --- what the guard's log lines carry -------------------------------------------------------


def test_a_warning_names_the_request_id_and_debug_adds_detail(
    server_in_each_mode: RunningServer, logs: LogWatch
) -> None:
    logs.caplog.set_level(logging.DEBUG, logger=GUARD_LOGGER)
    headers, body = rpc_request("tools/call", ADD, protocol=PROTOCOLS[0])
    headers = {**headers, "x-request-id": "req-7f3a", "user-agent": "flaky-client/1.0"}
    server_in_each_mode.cut_short(headers, body, shape="content-length")
    (warning,) = logs.guard_warnings()
    assert "request req-7f3a" in warning.getMessage()
    debug = [r.getMessage() for r in logs.records if r.levelno == logging.DEBUG]
    (detail,) = [message for message in debug if "req-7f3a" in message]
    assert "flaky-client/1.0" in detail
