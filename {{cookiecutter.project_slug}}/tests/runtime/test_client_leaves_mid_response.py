"""Clients that leave after their request body arrived: while the tool runs, mid-stream.

The tool must run to completion (no half-done side effects), the rest of the response is
dropped, and the log gets one WARNING and nothing at ERROR.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

import anyio
import pytest

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.runtime.settings import JsonResponse
from {{ cookiecutter.package_name }}.settings import Settings

from ..support import rawhttp
from ..support.client import PROTOCOLS, requires_stateless_progress
from ..support.logs import LogWatch
from ..support.rpc import rpc_request, send
from ..support.servers import AnswerRoute, RunningServer
from ..support.tools import add_call, wait_call

LATE_DISCONNECT = "client disconnected before the response was complete"


class Probe:
    """What the probe tool has done, and the switch that lets it finish."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()


def server_with_probe(
    serve: Callable[..., RunningServer], *, json_response: JsonResponse
) -> tuple[RunningServer, Probe]:
    """The service plus a tool that runs until the test releases it, then records that its
    work completed."""
    app = create_app(Settings(json_response=json_response))
    probe = Probe()

    async def side_effect() -> str:
        """Wait for the test's release, then record that the work completed."""
        probe.started.set()
        await anyio.to_thread.run_sync(probe.release.wait, 10)
        probe.finished.set()
        return "done"

    app.state.mcp_server.add_tool(side_effect)
    return serve(app), probe


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_tool_runs_to_completion_when_client_leaves_while_it_runs(
    serve: Callable[..., RunningServer], logs: LogWatch, protocol: str, answer_route: AnswerRoute
) -> None:
    """Whichever kind of answer the call was getting: JSON, or a stream (the tool sends no
    progress, so the client leaves before anything was sent)."""
    server, probe = server_with_probe(serve, json_response=answer_route.json_response)
    params = {"name": "side_effect", "arguments": {}, **answer_route.meta()}
    headers, body = rpc_request("tools/call", params, request_id=7, protocol=protocol)
    headers["content-length"] = str(len(body))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        client = sock.getsockname()[:2]
        sock.sendall(rawhttp.request_head(server.port, headers) + body)
        assert probe.started.wait(10), "the tool never started"
    server.wait_for_connection_closed(client)  # the server has seen the client leave
    probe.release.set()
    assert probe.finished.wait(10), "the tool was cancelled when its client left"
    server.settle()

    (warning,) = logs.guard_warnings()
    assert LATE_DISCONNECT in warning.getMessage()
    assert "tools/call id=7" in warning.getMessage()
    assert logs.warnings() == [warning], logs.dump()
    assert logs.errors() == [], logs.dump()
    answer = send(server.mcp_url, *rpc_request("tools/call", add_call(1, 1), protocol=protocol))
    assert answer.result["structuredContent"] == {"result": 2.0}, answer


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
