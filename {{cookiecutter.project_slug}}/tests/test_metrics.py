"""``GET /metrics``: what a monitoring system scrapes, read back after real traffic.

The counts must match the traffic exactly, in one process and across ``--workers`` (where
each scrape reaches one worker and must still report the whole service).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.settings import Settings

from .support import rawhttp
from .support.client import PROTOCOLS, post_rpc, rpc_request
from .support.processes import MODULE, Process, clean_environment, service_port
from .support.servers import RunningServer
from .support.tools import FAILING, QUICK, add_call, fail_call

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(base_url: str) -> Samples:
    response = httpx.get(f"{base_url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def traffic(base_url: str) -> None:
    """Three quick calls, an expected tool failure, a 415 and a client gone mid-body."""
    mcp_url = f"{base_url}/mcp"
    for _ in range(3):
        assert post_rpc(mcp_url, "tools/call", add_call(), PROTOCOLS[0]).status_code == 200
    assert post_rpc(mcp_url, "tools/call", fail_call("expected"), PROTOCOLS[0]).status_code == 200
    headers, body = rpc_request("tools/list", {}, request_id=1, protocol=PROTOCOLS[0])
    refused = httpx.post(mcp_url, headers={**headers, "content-type": "text/plain"}, content=body)
    assert refused.status_code == 415
    port = int(base_url.rsplit(":", 1)[1])
    rawhttp.truncated(port, headers, body, shape="content-length")


def assert_counts(base_url: str) -> None:
    """The counts of ``traffic``, once the departed client's request has been counted."""
    deadline = time.monotonic() + 10
    while True:
        samples = scrape(base_url)
        if value(samples, "mcp_guard_events_total", event="early_disconnect") or (
            time.monotonic() > deadline
        ):
            break
        time.sleep(0.05)
    calls = {"method": "tools/call"}
    assert value(samples, "mcp_requests_total", **calls, tool=QUICK, outcome="ok") == 3
    assert value(samples, "mcp_requests_total", **calls, tool=FAILING, outcome="tool_error") == 1
    assert value(samples, "mcp_requests_total", method="", tool="", outcome="refused") == 1
    assert value(samples, "mcp_requests_total", method="", tool="", outcome="client_left") == 1
    assert value(samples, "mcp_request_duration_seconds_count", **calls, tool=QUICK) == 3
    assert value(samples, "mcp_guard_events_total", event="early_disconnect") == 1
    assert value(samples, "mcp_guard_events_total", event="refused") == 1
    assert value(samples, "mcp_guard_events_total", event="body_too_large") == 0
    assert value(samples, "mcp_requests_in_flight") == 0
    # Probes and scrapes are not MCP requests.
    assert sum(v for (name, _), v in samples.items() if name == "mcp_requests_total") == 6


@pytest.mark.process
def test_metrics_count_real_traffic_in_one_process(launch: Callable[..., Process]) -> None:
    process = launch(*MODULE, "--port", "0", env=clean_environment())
    base_url = f"http://127.0.0.1:{service_port(process)}"
    traffic(base_url)
    assert_counts(base_url)


@pytest.mark.process
def test_metrics_add_up_across_workers(launch: Callable[..., Process]) -> None:
    process = launch(*MODULE, "--port", "0", "--workers", "2", env=clean_environment())
    base_url = f"http://127.0.0.1:{service_port(process)}"
    traffic(base_url)
    for _ in range(4):  # new connections, so the scrapes reach either worker
        assert_counts(base_url)


def test_names_a_client_makes_up_are_counted_as_other(serve: Callable[..., RunningServer]) -> None:
    """No client can grow the number of series: unknown tools and methods share one label."""
    server = serve(create_app(Settings(json_response=True)))
    for name in ("made-up-1", "made-up-2"):
        server.post("tools/call", {"name": name, "arguments": {}}, protocol=PROTOCOLS[0])
    for method in ("made/up/1", "made/up/2"):
        server.post(method, {}, protocol=PROTOCOLS[0])
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
    headers, body = rpc_request("tools/list", {}, request_id=1, protocol=PROTOCOLS[0])
    padded = httpx.post(server.mcp_url, headers={**headers, "x-pad": "a" * 2000}, content=body)
    assert padded.status_code == 431
    large = httpx.post(server.mcp_url, headers=headers, content=b" " * 2000)
    assert large.status_code == 413
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
    server.post("tools/call", {"name": "direct", "arguments": {"x": 1}}, protocol=PROTOCOLS[0])
    samples = scrape(server.base_url)
    calls = {"method": "tools/call", "tool": "direct"}
    assert value(samples, "mcp_requests_total", **calls, outcome="ok") == 1
