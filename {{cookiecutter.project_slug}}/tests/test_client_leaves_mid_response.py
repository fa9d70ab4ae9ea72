"""Clients that leave after their request body arrived: while the tool runs, mid-stream.

The tool must run to completion (no half-done side effects), the rest of the response is
dropped, and the log gets one WARNING and nothing at ERROR.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import anyio
import pytest

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from .support import rawhttp
from .support.client import PROTOCOLS, requires_stateless_progress, rpc_request
from .support.logs import LogWatch
from .support.servers import RunningServer
from .support.tools import add_call, wait_call

LATE_DISCONNECT = "client disconnected before the response was complete"


def server_with_probe(
    serve: Callable[..., RunningServer], *, json_response: bool
) -> tuple[RunningServer, threading.Event]:
    """The service plus a slow tool whose side effect the test can observe."""
    app = create_app(Settings(json_response=json_response))
    finished = threading.Event()

    async def slow_side_effect(seconds: float) -> str:
        """Sleep, then record that the work completed."""
        await anyio.sleep(seconds)
        finished.set()
        return "done"

    app.state.mcp_server.add_tool(slow_side_effect)
    return serve(app), finished


@pytest.mark.parametrize("json_response", [False, True], ids=["sse", "json"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_tool_runs_to_completion_when_client_leaves_while_it_runs(
    serve: Callable[..., RunningServer], logs: LogWatch, protocol: str, json_response: bool
) -> None:
    server, finished = server_with_probe(serve, json_response=json_response)
    params = {"name": "slow_side_effect", "arguments": {"seconds": 0.5}}
    headers, body = rpc_request("tools/call", params, request_id=7, protocol=protocol)
    headers["content-length"] = str(len(body))
    rawhttp.send_and_close(server.port, rawhttp.request_head(server.port, headers) + body)

    assert not finished.is_set(), "the client should have left before the tool finished"
    assert finished.wait(5), "the tool was cancelled when its client left"
    logs.wait_for(lambda: bool(logs.guard_warnings()))
    time.sleep(0.2)  # room for anything else the SDK might log about the request

    (warning,) = logs.guard_warnings()
    assert LATE_DISCONNECT in warning.getMessage()
    assert "tools/call id=7" in warning.getMessage()
    assert logs.warnings() == [warning], logs.dump()
    assert logs.errors() == [], logs.dump()
    assert server.post("tools/call", add_call(1, 1), protocol=protocol)


@requires_stateless_progress
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_client_leaving_halfway_through_an_sse_stream(
    server: RunningServer, logs: LogWatch, protocol: str
) -> None:
    params = {**wait_call(0.6, 3), "_meta": {"progressToken": "p"}}
    headers, body = rpc_request("tools/call", params, request_id=8, protocol=protocol)
    headers["content-length"] = str(len(body))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(rawhttp.request_head(server.port, headers) + body)
        rawhttp.read_until(sock, b"notifications/progress")

    logs.wait_for(lambda: bool(logs.guard_warnings()))
    # The tool keeps going and finishes; its access line is written when it does.
    logs.wait_for(lambda: bool(logs.access_lines()))
    (line,) = logs.access_lines()
    assert line.outcome == "client_left"  # type: ignore[attr-defined]
    (warning,) = logs.guard_warnings()
    assert LATE_DISCONNECT in warning.getMessage()
    assert "tools/call id=8" in warning.getMessage()
    assert logs.errors() == [], logs.dump()
