"""``GET /metrics``: what a monitoring system scrapes, read back after real traffic.

The counts must match the traffic exactly, in one process and across ``--workers`` (where
each scrape reaches one worker and must still report the whole service).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from ..support.client import PROTOCOLS
from ..support.metrics import assert_counts, scrape, traffic, value
from ..support.processes import MODULE, Process, clean_environment, service_port
from ..support.rpc import rpc_request, send
from ..support.servers import RunningServer


@pytest.mark.process
def test_metrics_count_real_traffic_in_one_process(launch: Callable[..., Process]) -> None:
    process = launch(*MODULE, "--port", "0", env=clean_environment())
    base_url = f"http://127.0.0.1:{service_port(process)}"
    traffic(base_url)
    assert_counts(base_url)
    # Across workers: test_connections.py's two-worker test, which starts them once for all
    # they must get right together.


def test_names_a_client_makes_up_are_counted_as_other(serve: Callable[..., RunningServer]) -> None:
    """No client can grow the number of series: unknown tools and methods share one label."""
    server = serve(create_app(Settings(json_response=True)))
    made_up: list[tuple[str, dict[str, Any]]] = [
        ("tools/call", {"name": "made-up-1", "arguments": {}}),
        ("tools/call", {"name": "made-up-2", "arguments": {}}),
        ("made/up/1", {}),
        ("made/up/2", {}),
    ]
    for method, params in made_up:
        answer = send(server.mcp_url, *rpc_request(method, params, protocol=PROTOCOLS[0]))
        assert answer.status == 200, answer
    samples = scrape(server.base_url)
    labels = {
        dict(labels)["method"]: dict(labels)["tool"]
        for (name, labels) in samples
        if name == "mcp_requests_total"
    }
    assert labels == {"tools/call": "other", "other": ""}


def test_metrics_can_be_switched_off(serve: Callable[..., RunningServer]) -> None:
    server = serve(create_app(Settings(metrics=False)))
    # No such route: the path falls through to /mcp's app (404, or 401 with authentication).
    response = httpx.get(f"{server.base_url}/metrics", timeout=10)
    assert response.status_code in {401, 404}, response.text
    assert "mcp_requests" not in response.text
    assert httpx.get(f"{server.base_url}/healthz", timeout=10).status_code == 200


@pytest.mark.parametrize("path", ["/metrics", "/healthz"])
def test_scrapes_and_probes_are_not_counted(serve: Callable[..., RunningServer], path: str) -> None:
    server = serve(create_app(Settings()))
    for _ in range(3):
        httpx.get(f"{server.base_url}{path}", timeout=10)
    samples = scrape(server.base_url)
    assert not [key for key in samples if key[0] == "mcp_requests_total"]


def test_refusals_before_the_guard_are_counted_as_their_events(
    serve: Callable[..., RunningServer],
) -> None:
    """431 (headers) and 413 (a declared body) are refusals, each counted under its event."""
    server = serve(create_app(Settings(max_header_bytes=1024, max_body_bytes=1000)))
    headers, body = rpc_request("tools/list", {}, protocol=PROTOCOLS[0])
    assert send(server.mcp_url, {**headers, "x-pad": "a" * 2000}, body).status == 431
    assert send(server.mcp_url, headers, b" " * 2000).status == 413
    samples = scrape(server.base_url)
    assert value(samples, "mcp_guard_events_total", event="headers_too_large") == 1
    assert value(samples, "mcp_guard_events_total", event="body_too_large") == 1
    assert value(samples, "mcp_requests_total", method="", tool="", outcome="refused") == 2


def test_a_tool_added_through_the_sdk_is_counted_by_its_name(
    serve: Callable[..., RunningServer],
) -> None:
    """Tools added with the SDK's own API, not the template's registry, are labelled too."""
    app = create_app(Settings(json_response=True))

    def direct(x: int) -> int:
        """Added through the SDK's API."""
        return x

    app.state.mcp_server.add_tool(direct)
    server = serve(app)
    call = {"name": "direct", "arguments": {"x": 1}}
    assert send(server.mcp_url, *rpc_request("tools/call", call, protocol=PROTOCOLS[0])).result
    samples = scrape(server.base_url)
    calls = {"method": "tools/call", "tool": "direct"}
    assert value(samples, "mcp_requests_total", **calls, outcome="ok") == 1
